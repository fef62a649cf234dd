using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RunRecipe : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "WeightDecay",
                table: "TrainingRuns",
                newName: "Recipe_WeightDecay");

            migrationBuilder.RenameColumn(
                name: "ValidationFraction",
                table: "TrainingRuns",
                newName: "Recipe_ValidationFraction");

            migrationBuilder.RenameColumn(
                name: "TestFraction",
                table: "TrainingRuns",
                newName: "Recipe_TestFraction");

            migrationBuilder.RenameColumn(
                name: "Seed",
                table: "TrainingRuns",
                newName: "Recipe_Seed");

            migrationBuilder.RenameColumn(
                name: "Schedule",
                table: "TrainingRuns",
                newName: "Recipe_Schedule");

            migrationBuilder.RenameColumn(
                name: "Preset",
                table: "TrainingRuns",
                newName: "Recipe_Preset");

            migrationBuilder.RenameColumn(
                name: "Patience",
                table: "TrainingRuns",
                newName: "Recipe_Patience");

            migrationBuilder.RenameColumn(
                name: "LearningRate",
                table: "TrainingRuns",
                newName: "Recipe_LearningRate");

            migrationBuilder.RenameColumn(
                name: "FineTune",
                table: "TrainingRuns",
                newName: "Recipe_FineTune");

            migrationBuilder.RenameColumn(
                name: "Epochs",
                table: "TrainingRuns",
                newName: "Recipe_Epochs");

            migrationBuilder.RenameColumn(
                name: "Dropout",
                table: "TrainingRuns",
                newName: "Recipe_Dropout");

            migrationBuilder.RenameColumn(
                name: "Crop",
                table: "TrainingRuns",
                newName: "Recipe_Crop");

            migrationBuilder.RenameColumn(
                name: "BatchSize",
                table: "TrainingRuns",
                newName: "Recipe_BatchSize");

            migrationBuilder.RenameColumn(
                name: "Augment",
                table: "TrainingRuns",
                newName: "Recipe_Augment");

            migrationBuilder.RenameColumn(
                name: "Architecture",
                table: "TrainingRuns",
                newName: "Recipe_Architecture");

            migrationBuilder.RenameColumn(
                name: "DevicePreference",
                table: "TrainingRuns",
                newName: "Recipe_Device");

            migrationBuilder.AlterColumn<string>(
                name: "Recipe_Schedule",
                table: "TrainingRuns",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 20,
                oldDefaultValue: "constant");

            migrationBuilder.AlterColumn<double>(
                name: "Recipe_Dropout",
                table: "TrainingRuns",
                type: "REAL",
                nullable: false,
                oldClrType: typeof(double),
                oldType: "REAL",
                oldDefaultValue: 0.29999999999999999);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "Recipe_WeightDecay",
                table: "TrainingRuns",
                newName: "WeightDecay");

            migrationBuilder.RenameColumn(
                name: "Recipe_ValidationFraction",
                table: "TrainingRuns",
                newName: "ValidationFraction");

            migrationBuilder.RenameColumn(
                name: "Recipe_TestFraction",
                table: "TrainingRuns",
                newName: "TestFraction");

            migrationBuilder.RenameColumn(
                name: "Recipe_Seed",
                table: "TrainingRuns",
                newName: "Seed");

            migrationBuilder.RenameColumn(
                name: "Recipe_Schedule",
                table: "TrainingRuns",
                newName: "Schedule");

            migrationBuilder.RenameColumn(
                name: "Recipe_Preset",
                table: "TrainingRuns",
                newName: "Preset");

            migrationBuilder.RenameColumn(
                name: "Recipe_Patience",
                table: "TrainingRuns",
                newName: "Patience");

            migrationBuilder.RenameColumn(
                name: "Recipe_LearningRate",
                table: "TrainingRuns",
                newName: "LearningRate");

            migrationBuilder.RenameColumn(
                name: "Recipe_FineTune",
                table: "TrainingRuns",
                newName: "FineTune");

            migrationBuilder.RenameColumn(
                name: "Recipe_Epochs",
                table: "TrainingRuns",
                newName: "Epochs");

            migrationBuilder.RenameColumn(
                name: "Recipe_Dropout",
                table: "TrainingRuns",
                newName: "Dropout");

            migrationBuilder.RenameColumn(
                name: "Recipe_Crop",
                table: "TrainingRuns",
                newName: "Crop");

            migrationBuilder.RenameColumn(
                name: "Recipe_BatchSize",
                table: "TrainingRuns",
                newName: "BatchSize");

            migrationBuilder.RenameColumn(
                name: "Recipe_Augment",
                table: "TrainingRuns",
                newName: "Augment");

            migrationBuilder.RenameColumn(
                name: "Recipe_Architecture",
                table: "TrainingRuns",
                newName: "Architecture");

            migrationBuilder.RenameColumn(
                name: "Recipe_Device",
                table: "TrainingRuns",
                newName: "DevicePreference");

            migrationBuilder.AlterColumn<string>(
                name: "Schedule",
                table: "TrainingRuns",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "constant",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 20);

            migrationBuilder.AlterColumn<double>(
                name: "Dropout",
                table: "TrainingRuns",
                type: "REAL",
                nullable: false,
                defaultValue: 0.29999999999999999,
                oldClrType: typeof(double),
                oldType: "REAL");
        }
    }
}
