using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Deployments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AlertRules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Deployment = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Metric = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Comparison = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Threshold = table.Column<double>(type: "REAL", nullable: false),
                    WindowMinutes = table.Column<int>(type: "INTEGER", nullable: false),
                    Severity = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertRules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Alerts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    RuleId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Source = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Deployment = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Metric = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    Severity = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    Message = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    Value = table.Column<double>(type: "REAL", nullable: true),
                    Threshold = table.Column<double>(type: "REAL", nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    RaisedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    AcknowledgedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    AcknowledgedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ResolvedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ResolvedReason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    RetrainRunId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Alerts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Endpoints",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Assignment = table.Column<string>(type: "TEXT", nullable: false),
                    History = table.Column<string>(type: "TEXT", nullable: false),
                    ActiveRollout = table.Column<string>(type: "TEXT", nullable: true),
                    PastRollouts = table.Column<string>(type: "TEXT", nullable: false),
                    PrimaryKeyHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SecondaryKeyHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    KeysChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Endpoints", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ModelServerInstances",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Deployment = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Index = table.Column<int>(type: "INTEGER", nullable: false),
                    Generation = table.Column<int>(type: "INTEGER", nullable: false),
                    Pid = table.Column<int>(type: "INTEGER", nullable: true),
                    ProcessStartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    WorkFolder = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Restarts = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ModelServerInstances", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ScoringSamples",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Deployment = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    LatencyMs = table.Column<double>(type: "REAL", nullable: false),
                    Inputs = table.Column<string>(type: "TEXT", nullable: false),
                    Outputs = table.Column<string>(type: "TEXT", nullable: false),
                    Rows = table.Column<int>(type: "INTEGER", nullable: false),
                    IsSampleTraffic = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScoringSamples", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ServingMinutes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Deployment = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Minute = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Requests = table.Column<long>(type: "INTEGER", nullable: false),
                    Errors = table.Column<long>(type: "INTEGER", nullable: false),
                    ByStatus = table.Column<string>(type: "TEXT", nullable: false),
                    GatewayLatency = table.Column<string>(type: "TEXT", nullable: false),
                    ModelLatency = table.Column<string>(type: "TEXT", nullable: false),
                    TotalLatency = table.Column<string>(type: "TEXT", nullable: false),
                    Mirrored = table.Column<long>(type: "INTEGER", nullable: false),
                    MirrorFailed = table.Column<long>(type: "INTEGER", nullable: false),
                    MirrorCompared = table.Column<long>(type: "INTEGER", nullable: false),
                    MirrorDisagreed = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ServingMinutes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Deployments",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    EndpointId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ModelVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    ArtifactHash = table.Column<string>(type: "TEXT", fixedLength: true, maxLength: 64, nullable: false),
                    InstanceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestTimeoutMs = table.Column<int>(type: "INTEGER", nullable: false),
                    MaxConcurrentRequestsPerInstance = table.Column<int>(type: "INTEGER", nullable: false),
                    MaxQueueWaitMs = table.Column<int>(type: "INTEGER", nullable: false),
                    Liveness = table.Column<string>(type: "TEXT", nullable: false),
                    Readiness = table.Column<string>(type: "TEXT", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    StateReason = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    StateChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Generation = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Deployments", x => new { x.EndpointId, x.Name });
                    table.ForeignKey(
                        name: "FK_Deployments_Endpoints_EndpointId",
                        column: x => x.EndpointId,
                        principalTable: "Endpoints",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AlertRules_Endpoint",
                table: "AlertRules",
                column: "Endpoint");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_Endpoint",
                table: "Alerts",
                column: "Endpoint");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_RuleId_Deployment_State",
                table: "Alerts",
                columns: new[] { "RuleId", "Deployment", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_State_RaisedAt",
                table: "Alerts",
                columns: new[] { "State", "RaisedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_ModelName_ModelVersion",
                table: "Deployments",
                columns: new[] { "ModelName", "ModelVersion" });

            migrationBuilder.CreateIndex(
                name: "IX_Endpoints_Name",
                table: "Endpoints",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ModelServerInstances_Endpoint_Deployment_Index_Generation",
                table: "ModelServerInstances",
                columns: new[] { "Endpoint", "Deployment", "Index", "Generation" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ScoringSamples_At",
                table: "ScoringSamples",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_ScoringSamples_Endpoint_Deployment_Id",
                table: "ScoringSamples",
                columns: new[] { "Endpoint", "Deployment", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ServingMinutes_Endpoint_Deployment_Minute",
                table: "ServingMinutes",
                columns: new[] { "Endpoint", "Deployment", "Minute" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ServingMinutes_Minute",
                table: "ServingMinutes",
                column: "Minute");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AlertRules");

            migrationBuilder.DropTable(
                name: "Alerts");

            migrationBuilder.DropTable(
                name: "Deployments");

            migrationBuilder.DropTable(
                name: "ModelServerInstances");

            migrationBuilder.DropTable(
                name: "ScoringSamples");

            migrationBuilder.DropTable(
                name: "ServingMinutes");

            migrationBuilder.DropTable(
                name: "Endpoints");
        }
    }
}
