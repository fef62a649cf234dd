using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DataHealth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LabelConflicts",
                table: "TrainingRuns",
                type: "integer",
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
                name: "NearDuplicateGroups",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "NearDuplicatePhotos",
                table: "TrainingRuns");

            migrationBuilder.DropColumn(
                name: "Group",
                table: "RunImages");
        }
    }
}
