using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HappySad.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CropNames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Crop's limit grew from 10 to 20 characters for "face-and-whole". SQLite keeps no
            // length on TEXT columns, so only the model snapshot changes.
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
