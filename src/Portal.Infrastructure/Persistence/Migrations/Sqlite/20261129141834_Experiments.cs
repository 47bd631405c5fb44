using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Experiments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Experiments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Deleted = table.Column<bool>(type: "INTEGER", nullable: false),
                    Tags = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Experiments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Sweeps",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    ParentRunId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Command = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    CodePath = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Inputs = table.Column<string>(type: "TEXT", nullable: false),
                    Strategy = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Space = table.Column<string>(type: "TEXT", nullable: false),
                    Objective = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    Direction = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    MaxConcurrent = table.Column<int>(type: "INTEGER", nullable: false),
                    Trials = table.Column<string>(type: "TEXT", nullable: false),
                    Launched = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Sweeps", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Runs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    StartTime = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EndTime = table.Column<DateTime>(type: "TEXT", nullable: true),
                    HeartbeatAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Params = table.Column<string>(type: "TEXT", nullable: false),
                    Tags = table.Column<string>(type: "TEXT", nullable: false),
                    Metrics = table.Column<string>(type: "TEXT", nullable: false),
                    Inputs = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Runs_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Jobs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    RunId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    Command = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    CodePath = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Inputs = table.Column<string>(type: "TEXT", nullable: false),
                    Params = table.Column<string>(type: "TEXT", nullable: false),
                    Compute = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    SubmittedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    SubmittedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ExitCode = table.Column<int>(type: "INTEGER", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ProcessId = table.Column<int>(type: "INTEGER", nullable: true),
                    ProcessStartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Timeout = table.Column<TimeSpan>(type: "TEXT", nullable: false),
                    SweepId = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Jobs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Jobs_Runs_RunId",
                        column: x => x.RunId,
                        principalTable: "Runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Points and rollups are stored only in their primary-key b-tree (WITHOUT ROWID): every write and
            // every history read goes by that key, and a second copy of each row would halve the ingest rate.
            migrationBuilder.Sql("""
                CREATE TABLE "MetricPoints" (
                    "RunId" TEXT NOT NULL, "Key" TEXT NOT NULL, "Step" INTEGER NOT NULL, "Timestamp" INTEGER NOT NULL,
                    "Value" REAL NOT NULL, "IsNan" INTEGER NOT NULL,
                    CONSTRAINT "PK_MetricPoints" PRIMARY KEY ("RunId", "Key", "Step", "Timestamp", "Value", "IsNan"),
                    CONSTRAINT "FK_MetricPoints_Runs_RunId" FOREIGN KEY ("RunId") REFERENCES "Runs" ("Id") ON DELETE CASCADE
                ) WITHOUT ROWID;
                """);

            migrationBuilder.Sql("""
                CREATE TABLE "MetricRollups" (
                    "RunId" TEXT NOT NULL, "Key" TEXT NOT NULL, "Level" INTEGER NOT NULL, "Bucket" INTEGER NOT NULL,
                    "FirstStep" INTEGER NOT NULL, "FirstValue" REAL NOT NULL, "LastStep" INTEGER NOT NULL, "LastValue" REAL NOT NULL,
                    "MinStep" INTEGER NOT NULL, "MinValue" REAL NOT NULL, "MaxStep" INTEGER NOT NULL, "MaxValue" REAL NOT NULL,
                    CONSTRAINT "PK_MetricRollups" PRIMARY KEY ("RunId", "Key", "Level", "Bucket"),
                    CONSTRAINT "FK_MetricRollups_Runs_RunId" FOREIGN KEY ("RunId") REFERENCES "Runs" ("Id") ON DELETE CASCADE
                ) WITHOUT ROWID;
                """);

            migrationBuilder.CreateTable(
                name: "RunArtifacts",
                columns: table => new
                {
                    RunId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Path = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Hash = table.Column<string>(type: "TEXT", fixedLength: true, maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunArtifacts", x => new { x.RunId, x.Path });
                    table.ForeignKey(
                        name: "FK_RunArtifacts_Runs_RunId",
                        column: x => x.RunId,
                        principalTable: "Runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RunSearchValues",
                columns: table => new
                {
                    RunId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    Number = table.Column<double>(type: "REAL", nullable: true),
                    Text = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RunSearchValues", x => new { x.RunId, x.Kind, x.Key });
                    table.ForeignKey(
                        name: "FK_RunSearchValues_Runs_RunId",
                        column: x => x.RunId,
                        principalTable: "Runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Experiments_Name",
                table: "Experiments",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_RunId",
                table: "Jobs",
                column: "RunId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_Status_SubmittedAt",
                table: "Jobs",
                columns: new[] { "Status", "SubmittedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_SweepId",
                table: "Jobs",
                column: "SweepId");

            migrationBuilder.CreateIndex(
                name: "IX_Runs_ExperimentId_Name",
                table: "Runs",
                columns: new[] { "ExperimentId", "Name" });

            migrationBuilder.CreateIndex(
                name: "IX_Runs_ExperimentId_StartTime_Id",
                table: "Runs",
                columns: new[] { "ExperimentId", "StartTime", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Runs_Status_HeartbeatAt",
                table: "Runs",
                columns: new[] { "Status", "HeartbeatAt" });

            migrationBuilder.CreateIndex(
                name: "IX_RunSearchValues_ExperimentId_Kind_Key_Number_RunId",
                table: "RunSearchValues",
                columns: new[] { "ExperimentId", "Kind", "Key", "Number", "RunId" });

            migrationBuilder.CreateIndex(
                name: "IX_RunSearchValues_ExperimentId_Kind_Key_Text_RunId",
                table: "RunSearchValues",
                columns: new[] { "ExperimentId", "Kind", "Key", "Text", "RunId" });

            migrationBuilder.CreateIndex(
                name: "IX_Sweeps_ExperimentId",
                table: "Sweeps",
                column: "ExperimentId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Jobs");

            migrationBuilder.DropTable(
                name: "MetricPoints");

            migrationBuilder.DropTable(
                name: "MetricRollups");

            migrationBuilder.DropTable(
                name: "RunArtifacts");

            migrationBuilder.DropTable(
                name: "RunSearchValues");

            migrationBuilder.DropTable(
                name: "Sweeps");

            migrationBuilder.DropTable(
                name: "Runs");

            migrationBuilder.DropTable(
                name: "Experiments");
        }
    }
}
