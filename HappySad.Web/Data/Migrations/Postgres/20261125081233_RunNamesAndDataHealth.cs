using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RunNamesAndDataHealth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LabelConflicts",
                table: "TrainingRuns",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Name",
                table: "TrainingRuns",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "NearDuplicateGroups",
                table: "TrainingRuns",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "NearDuplicatePhotos",
                table: "TrainingRuns",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Notes",
                table: "TrainingRuns",
                type: "character varying(2000)",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Group",
                table: "RunImages",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LabelConflicts",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Name",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "NearDuplicateGroups",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "NearDuplicatePhotos",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Notes",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Group",
                table: "RunImages");
        }
    }
}
