using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Portal.Infrastructure.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GpuTelemetry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Budgets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Scope = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    MonthlyAmount = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    AlertedMonth = table.Column<string>(type: "character varying(7)", maxLength: 7, nullable: true),
                    AlertedPercent = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Budgets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "CostImports",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    FileName = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: false),
                    Format = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    Rows = table.Column<int>(type: "integer", nullable: false),
                    Total = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    PeriodStart = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    PeriodEnd = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ImportedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ImportedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CostImports", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "GpuDevices",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Host = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    DeviceKey = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Uuid = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    MigProfile = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    Index = table.Column<int>(type: "integer", nullable: true),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    MemoryTotalMiB = table.Column<double>(type: "double precision", nullable: true),
                    Compute = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Simulated = table.Column<bool>(type: "boolean", nullable: false),
                    FirstSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSampleMs = table.Column<long>(type: "bigint", nullable: false),
                    LastEnergyCounterJ = table.Column<double>(type: "double precision", nullable: true),
                    LastOwner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    LastBusy = table.Column<double>(type: "double precision", nullable: true),
                    LastMemoryUsedMiB = table.Column<double>(type: "double precision", nullable: true),
                    LastPowerW = table.Column<double>(type: "double precision", nullable: true),
                    LastTemperatureC = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GpuDevices", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "GpuHours",
                columns: table => new
                {
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    Bucket = table.Column<long>(type: "bigint", nullable: false),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Samples = table.Column<int>(type: "integer", nullable: false),
                    Seconds = table.Column<double>(type: "double precision", nullable: false),
                    BusySeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyKnownSeconds = table.Column<double>(type: "double precision", nullable: false),
                    MemoryMiBSeconds = table.Column<double>(type: "double precision", nullable: false),
                    EnergyJ = table.Column<double>(type: "double precision", nullable: false),
                    MaxTemperatureC = table.Column<double>(type: "double precision", nullable: true),
                    MaxPowerW = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GpuHours", x => new { x.DeviceId, x.Bucket, x.Owner });
                });

            migrationBuilder.CreateTable(
                name: "GpuMinutes",
                columns: table => new
                {
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    Bucket = table.Column<long>(type: "bigint", nullable: false),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Samples = table.Column<int>(type: "integer", nullable: false),
                    Seconds = table.Column<double>(type: "double precision", nullable: false),
                    BusySeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyKnownSeconds = table.Column<double>(type: "double precision", nullable: false),
                    MemoryMiBSeconds = table.Column<double>(type: "double precision", nullable: false),
                    EnergyJ = table.Column<double>(type: "double precision", nullable: false),
                    MaxTemperatureC = table.Column<double>(type: "double precision", nullable: true),
                    MaxPowerW = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GpuMinutes", x => new { x.DeviceId, x.Bucket, x.Owner });
                });

            migrationBuilder.CreateTable(
                name: "GpuSamples",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    Time = table.Column<long>(type: "bigint", nullable: false),
                    DurationMs = table.Column<int>(type: "integer", nullable: false),
                    BusyPermille = table.Column<short>(type: "smallint", nullable: true),
                    MemoryUsedMiB = table.Column<int>(type: "integer", nullable: true),
                    PowerDeciW = table.Column<int>(type: "integer", nullable: true),
                    EnergyJ = table.Column<int>(type: "integer", nullable: true),
                    TemperatureC = table.Column<short>(type: "smallint", nullable: true),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GpuSamples", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "IdleStretches",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastMinute = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    IdleSeconds = table.Column<double>(type: "double precision", nullable: false),
                    MeanBusy = table.Column<double>(type: "double precision", nullable: false),
                    Flagged = table.Column<bool>(type: "boolean", nullable: false),
                    Ended = table.Column<bool>(type: "boolean", nullable: false),
                    AlertId = table.Column<Guid>(type: "uuid", nullable: true),
                    JobCanceled = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdleStretches", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PriceCards",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Compute = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PricePerHour = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    GpusPerInstance = table.Column<int>(type: "integer", nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    ValidFrom = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ValidTo = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Note = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    IsExample = table.Column<bool>(type: "boolean", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PriceCards", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "TelemetryCursors",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    Value = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TelemetryCursors", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "UsageDays",
                columns: table => new
                {
                    Start = table.Column<long>(type: "bigint", nullable: false),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Compute = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    GpuSeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyGpuSeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyKnownSeconds = table.Column<double>(type: "double precision", nullable: false),
                    MemoryMiBSeconds = table.Column<double>(type: "double precision", nullable: false),
                    EnergyJ = table.Column<double>(type: "double precision", nullable: false),
                    ComputeSeconds = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageDays", x => new { x.Start, x.Owner, x.Compute });
                });

            migrationBuilder.CreateTable(
                name: "UsageHours",
                columns: table => new
                {
                    Start = table.Column<long>(type: "bigint", nullable: false),
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Compute = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    GpuSeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyGpuSeconds = table.Column<double>(type: "double precision", nullable: false),
                    BusyKnownSeconds = table.Column<double>(type: "double precision", nullable: false),
                    MemoryMiBSeconds = table.Column<double>(type: "double precision", nullable: false),
                    EnergyJ = table.Column<double>(type: "double precision", nullable: false),
                    ComputeSeconds = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageHours", x => new { x.Start, x.Owner, x.Compute });
                });

            migrationBuilder.CreateTable(
                name: "UsageOwners",
                columns: table => new
                {
                    Owner = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Label = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    User = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Team = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Experiment = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    Endpoint = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Deployment = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    FirstSeen = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageOwners", x => x.Owner);
                });

            migrationBuilder.CreateTable(
                name: "CostImportLines",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ImportId = table.Column<Guid>(type: "uuid", nullable: false),
                    Date = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ResourceId = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Endpoint = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Deployment = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Meter = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Cost = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CostImportLines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CostImportLines_CostImports_ImportId",
                        column: x => x.ImportId,
                        principalTable: "CostImports",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Budgets_Scope_Key",
                table: "Budgets",
                columns: new[] { "Scope", "Key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CostImportLines_ImportId_Date",
                table: "CostImportLines",
                columns: new[] { "ImportId", "Date" });

            migrationBuilder.CreateIndex(
                name: "IX_GpuDevices_Host_DeviceKey",
                table: "GpuDevices",
                columns: new[] { "Host", "DeviceKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_GpuHours_Bucket",
                table: "GpuHours",
                column: "Bucket");

            migrationBuilder.CreateIndex(
                name: "IX_GpuHours_Owner_Bucket",
                table: "GpuHours",
                columns: new[] { "Owner", "Bucket" });

            migrationBuilder.CreateIndex(
                name: "IX_GpuMinutes_Bucket",
                table: "GpuMinutes",
                column: "Bucket");

            migrationBuilder.CreateIndex(
                name: "IX_GpuMinutes_Owner_Bucket",
                table: "GpuMinutes",
                columns: new[] { "Owner", "Bucket" });

            migrationBuilder.CreateIndex(
                name: "IX_GpuSamples_DeviceId_Time",
                table: "GpuSamples",
                columns: new[] { "DeviceId", "Time" });

            migrationBuilder.CreateIndex(
                name: "IX_GpuSamples_Time",
                table: "GpuSamples",
                column: "Time");

            migrationBuilder.CreateIndex(
                name: "IX_IdleStretches_DeviceId_Owner_Ended",
                table: "IdleStretches",
                columns: new[] { "DeviceId", "Owner", "Ended" });

            migrationBuilder.CreateIndex(
                name: "IX_IdleStretches_StartedAt",
                table: "IdleStretches",
                column: "StartedAt");

            migrationBuilder.CreateIndex(
                name: "IX_PriceCards_Compute_ValidFrom",
                table: "PriceCards",
                columns: new[] { "Compute", "ValidFrom" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageHours_Owner",
                table: "UsageHours",
                column: "Owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Budgets");

            migrationBuilder.DropTable(
                name: "CostImportLines");

            migrationBuilder.DropTable(
                name: "GpuDevices");

            migrationBuilder.DropTable(
                name: "GpuHours");

            migrationBuilder.DropTable(
                name: "GpuMinutes");

            migrationBuilder.DropTable(
                name: "GpuSamples");

            migrationBuilder.DropTable(
                name: "IdleStretches");

            migrationBuilder.DropTable(
                name: "PriceCards");

            migrationBuilder.DropTable(
                name: "TelemetryCursors");

            migrationBuilder.DropTable(
                name: "UsageDays");

            migrationBuilder.DropTable(
                name: "UsageHours");

            migrationBuilder.DropTable(
                name: "UsageOwners");

            migrationBuilder.DropTable(
                name: "CostImports");
        }
    }
}
