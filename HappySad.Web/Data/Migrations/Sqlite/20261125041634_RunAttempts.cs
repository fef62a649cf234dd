using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RunAttempts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CancelRequestedAt",
                table: "TrainingRuns",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "RunAttempts",
                columns: table => new
                {
                    RunId = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    Worker = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FromEpoch = table.Column<int>(type: "INTEGER", nullable: false),
                    EndedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunAttempts", x => new { x.RunId, x.Number });
                    table.ForeignKey(
                        name: "FK_RunAttempts_TrainingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "TrainingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RunAttempts");

            migrationBuilder.DropColumn(
                name: "CancelRequestedAt",
                table: "TrainingRuns");
        }
    }
}
