using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conclave.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class RunUsage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "InputTokens",
                table: "runs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "OutputTokens",
                table: "runs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "UsageAtEventId",
                table: "runs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "InputTokens",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "OutputTokens",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "UsageAtEventId",
                table: "runs");
        }
    }
}
