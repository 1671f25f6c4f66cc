using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conclave.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OneRunningRunPerSession : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_runs_one_running_per_session",
                table: "runs",
                column: "SessionId",
                unique: true,
                filter: "\"Status\" = 'running'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_one_running_per_session",
                table: "runs");
        }
    }
}
