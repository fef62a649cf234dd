using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TrainingRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "TrainingRuns",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Source = table.Column<string>(type: "TEXT", maxLength: 12, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 12, nullable: false),
                    DataSetId = table.Column<int>(type: "INTEGER", nullable: true),
                    DataName = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Epochs = table.Column<int>(type: "INTEGER", nullable: false),
                    BatchSize = table.Column<int>(type: "INTEGER", nullable: false),
                    LearningRate = table.Column<double>(type: "REAL", nullable: false),
                    ValidationFraction = table.Column<double>(type: "REAL", nullable: false),
                    TestFraction = table.Column<double>(type: "REAL", nullable: false),
                    Seed = table.Column<int>(type: "INTEGER", nullable: false),
                    DevicePreference = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Device = table.Column<string>(type: "TEXT", maxLength: 10, nullable: true),
                    ProcessId = table.Column<int>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Message = table.Column<string>(type: "TEXT", nullable: true),
                    ClassNames = table.Column<string>(type: "TEXT", nullable: false),
                    SnapshotHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    TrainImages = table.Column<int>(type: "INTEGER", nullable: false),
                    ValidationImages = table.Column<int>(type: "INTEGER", nullable: false),
                    TestImages = table.Column<int>(type: "INTEGER", nullable: false),
                    SkippedImages = table.Column<int>(type: "INTEGER", nullable: false),
                    BestValAccuracy = table.Column<double>(type: "REAL", nullable: true),
                    BestEpoch = table.Column<int>(type: "INTEGER", nullable: true),
                    TestAccuracy = table.Column<double>(type: "REAL", nullable: true),
                    TestPrecision = table.Column<double>(type: "REAL", nullable: true),
                    TestRecall = table.Column<double>(type: "REAL", nullable: true),
                    TestF1 = table.Column<double>(type: "REAL", nullable: true),
                    TestBalancedAccuracy = table.Column<double>(type: "REAL", nullable: true),
                    TruePositives = table.Column<int>(type: "INTEGER", nullable: true),
                    FalsePositives = table.Column<int>(type: "INTEGER", nullable: true),
                    TrueNegatives = table.Column<int>(type: "INTEGER", nullable: true),
                    FalseNegatives = table.Column<int>(type: "INTEGER", nullable: true),
                    ModelPath = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    ModelBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    ModelSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingRuns_DataSets_DataSetId",
                        column: x => x.DataSetId,
                        principalTable: "DataSets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "RunEpochs",
                columns: table => new
                {
                    RunId = table.Column<int>(type: "INTEGER", nullable: false),
                    Epoch = table.Column<int>(type: "INTEGER", nullable: false),
                    Loss = table.Column<double>(type: "REAL", nullable: false),
                    Accuracy = table.Column<double>(type: "REAL", nullable: false),
                    ValLoss = table.Column<double>(type: "REAL", nullable: true),
                    ValAccuracy = table.Column<double>(type: "REAL", nullable: true),
                    Seconds = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunEpochs", x => new { x.RunId, x.Epoch });
                    table.ForeignKey(
                        name: "FK_RunEpochs_TrainingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "TrainingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RunImages",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<int>(type: "INTEGER", nullable: false),
                    PhotoId = table.Column<int>(type: "INTEGER", nullable: true),
                    Path = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Label = table.Column<int>(type: "INTEGER", nullable: false),
                    Split = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Predicted = table.Column<int>(type: "INTEGER", nullable: true),
                    Probability = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunImages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RunImages_TrainingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "TrainingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RunImages_RunId_Split",
                table: "RunImages",
                columns: new[] { "RunId", "Split" });

            migrationBuilder.CreateIndex(
                name: "IX_TrainingRuns_DataSetId",
                table: "TrainingRuns",
                column: "DataSetId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingRuns_Status",
                table: "TrainingRuns",
                column: "Status");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RunEpochs");

            migrationBuilder.DropTable(
                name: "RunImages");

            migrationBuilder.DropTable(
                name: "TrainingRuns");
        }
    }
}
