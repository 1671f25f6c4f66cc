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

            migrationBuilder.DropColumn(
                name: "Announcement",
                table: "run_waits");

            migrationBuilder.DropColumn(
                name: "AnnouncementEventId",
                table: "run_waits");

            migrationBuilder.DropColumn(
                name: "ExpiresAt",
                table: "run_waits");

            migrationBuilder.DropColumn(
                name: "Kind",
                table: "run_waits");

            migrationBuilder.DropColumn(
                name: "RequestId",
                table: "run_waits");
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
