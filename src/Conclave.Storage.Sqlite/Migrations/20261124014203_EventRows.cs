using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Conclave.Storage.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class EventRows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LastEventId",
                table: "events",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            // Every row stored so far holds one event.
            migrationBuilder.Sql("UPDATE events SET LastEventId = EventId;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastEventId",
                table: "events");
        }
    }
}
