using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Postgres
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
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Card",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"{""intendedUse"":"""",""limitations"":"""",""trainingData"":"""",""evaluation"":"""",""ethicalConsiderations"":""""}");

            migrationBuilder.AddColumn<string>(
                name: "Checks",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "Description",
                table: "ModelVersions",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Evaluation",
                table: "ModelVersions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "EvaluationRunId",
                table: "ModelVersions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Metrics",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"{}");

            migrationBuilder.AddColumn<string>(
                name: "Signature",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "Tags",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.AddColumn<string>(
                name: "TrainingDatasets",
                table: "ModelVersions",
                type: "text",
                nullable: false,
                defaultValue: @"[]");

            migrationBuilder.CreateTable(
                name: "RegistryDefaults",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Policy = table.Column<string>(type: "text", nullable: false),
                    Validation = table.Column<string>(type: "text", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RegistryDefaults", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ModelVersions_EvaluationRunId",
                table: "ModelVersions",
                column: "EvaluationRunId");
            // The trail is append-only: the database itself refuses to change or remove an entry (TRUNCATE too).
            migrationBuilder.Sql("""
                CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'insufficient_privilege';
                END $$;
                """);
            migrationBuilder.Sql("""CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON "AuditEntries" FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();""");
            migrationBuilder.Sql("""CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON "AuditEntries" FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS audit_entries_no_change ON "AuditEntries";""");
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS audit_entries_no_truncate ON "AuditEntries";""");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS audit_entries_append_only();");

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
