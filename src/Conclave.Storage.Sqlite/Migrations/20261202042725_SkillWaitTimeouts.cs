using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conclave.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SkillWaitTimeouts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "AskHumanTimeoutSeconds",
                table: "skills",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ConfirmationTimeoutSeconds",
                table: "skills",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AskHumanTimeoutSeconds",
                table: "skills");

            migrationBuilder.DropColumn(
                name: "ConfirmationTimeoutSeconds",
                table: "skills");
        }
    }
}
