using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MlflowRegistry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Aliases",
                table: "RegisteredModels",
                type: "TEXT",
                nullable: false,
                defaultValue: @"{}");

            migrationBuilder.AddColumn<string>(
                name: "Tags",
                table: "RegisteredModels",
                type: "TEXT",
                nullable: false,
                defaultValue: @"{}");

            migrationBuilder.AddColumn<string>(
                name: "Flavors",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "Format",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "File");

            migrationBuilder.AddColumn<string>(
                name: "InputExample",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 65536,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Stage",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "None");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Aliases",
                table: "RegisteredModels");

            migrationBuilder.DropColumn(
                name: "Tags",
                table: "RegisteredModels");

            migrationBuilder.DropColumn(
                name: "Flavors",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Format",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "InputExample",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Stage",
                table: "ModelVersions");
        }
    }
}
