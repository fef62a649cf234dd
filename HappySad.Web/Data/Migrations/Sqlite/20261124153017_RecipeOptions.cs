using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RecipeOptions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Augment",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Crop",
                table: "TrainingRuns",
                type: "TEXT",
                maxLength: 10,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Dropout",
                table: "TrainingRuns",
                type: "REAL",
                nullable: false,
                defaultValue: 0.29999999999999999);

            migrationBuilder.AddColumn<int>(
                name: "FacesFound",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "FineTune",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Patience",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "Preset",
                table: "TrainingRuns",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RestoredEpoch",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Schedule",
                table: "TrainingRuns",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "constant");

            migrationBuilder.AddColumn<double>(
                name: "WeightDecay",
                table: "TrainingRuns",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Augment",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Crop",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Dropout",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "FacesFound",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "FineTune",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Patience",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Preset",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "RestoredEpoch",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Schedule",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "WeightDecay",
                table: "TrainingRuns");
        }
    }
}
