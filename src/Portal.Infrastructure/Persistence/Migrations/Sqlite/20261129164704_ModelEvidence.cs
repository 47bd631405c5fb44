using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ModelEvidence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Validation",
                table: "RegisteredModels",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Card",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"{""intendedUse"":"""",""limitations"":"""",""trainingData"":"""",""evaluation"":"""",""ethicalConsiderations"":""""}");

            migrationBuilder.AddColumn<string>(
                name: "Checks",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "Description",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Evaluation",
                table: "ModelVersions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "EvaluationRunId",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Metrics",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"{}");

            migrationBuilder.AddColumn<string>(
                name: "Signature",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "Tags",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "TrainingDatasets",
                table: "ModelVersions",
                type: "TEXT",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.CreateTable(
                name: "RegistryDefaults",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    Policy = table.Column<string>(type: "TEXT", nullable: false),
                    Validation = table.Column<string>(type: "TEXT", nullable: false),
                    UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RegistryDefaults", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ModelVersions_EvaluationRunId",
                table: "ModelVersions",
                column: "EvaluationRunId");
            // The trail is append-only: the database itself refuses to change or remove an entry.
            migrationBuilder.Sql("CREATE TRIGGER AuditEntries_NoUpdate BEFORE UPDATE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER AuditEntries_NoDelete BEFORE DELETE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS AuditEntries_NoUpdate;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS AuditEntries_NoDelete;");

            migrationBuilder.DropTable(
                name: "RegistryDefaults");

            migrationBuilder.DropIndex(
                name: "IX_ModelVersions_EvaluationRunId",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Validation",
                table: "RegisteredModels");

            migrationBuilder.DropColumn(
                name: "Card",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Checks",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Description",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Evaluation",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "EvaluationRunId",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Metrics",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Signature",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "Tags",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "TrainingDatasets",
                table: "ModelVersions");
        }
    }
}
