using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace HappySad.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "DataSets",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ClassNames = table.Column<List<string>>(type: "text[]", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataSets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Photos",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DataSetId = table.Column<int>(type: "integer", nullable: false),
                    ClassName = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    StoredName = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    OriginalName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PerceptualHash = table.Column<long>(type: "bigint", nullable: false),
                    Width = table.Column<int>(type: "integer", nullable: false),
                    Height = table.Column<int>(type: "integer", nullable: false),
                    Format = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    ByteSize = table.Column<long>(type: "bigint", nullable: false),
                    Status = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    RejectionReason = table.Column<string>(type: "text", nullable: true),
                    AddedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    TrashedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Photos", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Photos_DataSets_DataSetId",
                        column: x => x.DataSetId,
                        principalTable: "DataSets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TrainingRuns",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Source = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    Status = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    DataSetId = table.Column<int>(type: "integer", nullable: true),
                    DataName = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Device = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: true),
                    ProcessId = table.Column<int>(type: "integer", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Message = table.Column<string>(type: "text", nullable: true),
                    ClassNames = table.Column<List<string>>(type: "text[]", nullable: false),
                    SnapshotHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    TrainImages = table.Column<int>(type: "integer", nullable: false),
                    ValidationImages = table.Column<int>(type: "integer", nullable: false),
                    TestImages = table.Column<int>(type: "integer", nullable: false),
                    SkippedImages = table.Column<int>(type: "integer", nullable: false),
                    FacesFound = table.Column<int>(type: "integer", nullable: true),
                    BestValAccuracy = table.Column<double>(type: "double precision", nullable: true),
                    BestEpoch = table.Column<int>(type: "integer", nullable: true),
                    RestoredEpoch = table.Column<int>(type: "integer", nullable: true),
                    TestAccuracy = table.Column<double>(type: "double precision", nullable: true),
                    TestPrecision = table.Column<double>(type: "double precision", nullable: true),
                    TestRecall = table.Column<double>(type: "double precision", nullable: true),
                    TestF1 = table.Column<double>(type: "double precision", nullable: true),
                    TestBalancedAccuracy = table.Column<double>(type: "double precision", nullable: true),
                    TruePositives = table.Column<int>(type: "integer", nullable: true),
                    FalsePositives = table.Column<int>(type: "integer", nullable: true),
                    TrueNegatives = table.Column<int>(type: "integer", nullable: true),
                    FalseNegatives = table.Column<int>(type: "integer", nullable: true),
                    ModelPath = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    ModelBytes = table.Column<long>(type: "bigint", nullable: true),
                    ModelSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Recipe_Architecture = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Recipe_Augment = table.Column<bool>(type: "boolean", nullable: false),
                    Recipe_BatchSize = table.Column<int>(type: "integer", nullable: false),
                    Recipe_Crop = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Recipe_Device = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Recipe_Dropout = table.Column<double>(type: "double precision", nullable: false),
                    Recipe_Epochs = table.Column<int>(type: "integer", nullable: false),
                    Recipe_FineTune = table.Column<bool>(type: "boolean", nullable: false),
                    Recipe_LearningRate = table.Column<double>(type: "double precision", nullable: false),
                    Recipe_Patience = table.Column<int>(type: "integer", nullable: false),
                    Recipe_Preset = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Recipe_Schedule = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Recipe_Seed = table.Column<int>(type: "integer", nullable: false),
                    Recipe_TestFraction = table.Column<double>(type: "double precision", nullable: false),
                    Recipe_ValidationFraction = table.Column<double>(type: "double precision", nullable: false),
                    Recipe_WeightDecay = table.Column<double>(type: "double precision", nullable: false)
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
                    RunId = table.Column<int>(type: "integer", nullable: false),
                    Epoch = table.Column<int>(type: "integer", nullable: false),
                    Loss = table.Column<double>(type: "double precision", nullable: false),
                    Accuracy = table.Column<double>(type: "double precision", nullable: false),
                    ValLoss = table.Column<double>(type: "double precision", nullable: true),
                    ValAccuracy = table.Column<double>(type: "double precision", nullable: true),
                    Seconds = table.Column<double>(type: "double precision", nullable: false)
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
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RunId = table.Column<int>(type: "integer", nullable: false),
                    PhotoId = table.Column<int>(type: "integer", nullable: true),
                    Path = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Label = table.Column<int>(type: "integer", nullable: false),
                    Split = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Predicted = table.Column<int>(type: "integer", nullable: true),
                    Probability = table.Column<double>(type: "double precision", nullable: true)
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
                name: "IX_DataSets_Name",
                table: "DataSets",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Photos_DataSetId_ClassName_TrashedAt_Id",
                table: "Photos",
                columns: new[] { "DataSetId", "ClassName", "TrashedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Photos_DataSetId_Sha256",
                table: "Photos",
                columns: new[] { "DataSetId", "Sha256" },
                unique: true);

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
                name: "Photos");

            migrationBuilder.DropTable(
                name: "RunEpochs");

            migrationBuilder.DropTable(
                name: "RunImages");

            migrationBuilder.DropTable(
                name: "TrainingRuns");

            migrationBuilder.DropTable(
                name: "DataSets");
        }
    }
}
