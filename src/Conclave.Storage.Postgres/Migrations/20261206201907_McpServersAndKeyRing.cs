using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Conclave.Storage.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class McpServersAndKeyRing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "mcp_servers",
                columns: table => new
                {
                    TenantId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Transport = table.Column<string>(type: "text", nullable: false),
                    Command = table.Column<string>(type: "text", nullable: true),
                    Arguments = table.Column<List<string>>(type: "text[]", nullable: true),
                    Url = table.Column<string>(type: "text", nullable: true),
                    EnvironmentNames = table.Column<List<string>>(type: "text[]", nullable: false),
                    HeaderNames = table.Column<List<string>>(type: "text[]", nullable: false),
                    ProtectedSecrets = table.Column<string>(type: "text", nullable: true),
                    Confirmation = table.Column<string>(type: "text", nullable: false),
                    ToolConfirmation = table.Column<string>(type: "text", nullable: true),
                    TimeoutSeconds = table.Column<int>(type: "integer", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_mcp_servers", x => new { x.TenantId, x.Name });
                });

            migrationBuilder.CreateTable(
                name: "secret_keys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: false),
                    Xml = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_secret_keys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_secret_keys_FriendlyName",
                table: "secret_keys",
                column: "FriendlyName",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "mcp_servers");

            migrationBuilder.DropTable(
                name: "secret_keys");
        }
    }
}
