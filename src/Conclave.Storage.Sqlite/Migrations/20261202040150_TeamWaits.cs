using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conclave.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class TeamWaits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "run_wait_requests",
                columns: table => new
                {
                    RunId = table.Column<string>(type: "TEXT", nullable: false),
                    RequestId = table.Column<string>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", nullable: false),
                    Announcement = table.Column<string>(type: "TEXT", nullable: false),
                    AnnouncementEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_wait_requests", x => new { x.RunId, x.RequestId });
                });

            // A wait stored by the previous version is one request: it moves to the new table before its columns go.
            migrationBuilder.Sql(
                """
                INSERT INTO run_wait_requests (RunId, RequestId, Kind, Announcement, AnnouncementEventId, ExpiresAt)
                SELECT RunId, RequestId, Kind, Announcement, AnnouncementEventId, ExpiresAt FROM run_waits;
                """);

            // The old table goes whole and comes back with its two columns (dropping columns one by one would have
            // SQLite rebuild the table outside the migration's transaction).
            migrationBuilder.Sql("CREATE TABLE run_waits_copy AS SELECT RunId, Checkpoint FROM run_waits;");
            migrationBuilder.DropTable(name: "run_waits");
            migrationBuilder.CreateTable(
                name: "run_waits",
                columns: table => new
                {
                    RunId = table.Column<string>(type: "TEXT", nullable: false),
                    Checkpoint = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_waits", x => x.RunId);
                });
            migrationBuilder.Sql("INSERT INTO run_waits (RunId, Checkpoint) SELECT RunId, Checkpoint FROM run_waits_copy;");
            migrationBuilder.Sql("DROP TABLE run_waits_copy;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "run_wait_requests");

            migrationBuilder.AddColumn<string>(
                name: "Announcement",
                table: "run_waits",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "AnnouncementEventId",
                table: "run_waits",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<DateTime>(
                name: "ExpiresAt",
                table: "run_waits",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Kind",
                table: "run_waits",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "RequestId",
                table: "run_waits",
                type: "TEXT",
                nullable: false,
                defaultValue: "");
        }
    }
}
