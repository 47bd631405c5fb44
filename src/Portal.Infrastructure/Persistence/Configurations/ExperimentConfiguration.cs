using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Sweeps;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class ExperimentConfiguration : IEntityTypeConfiguration<Experiment>
{
    public void Configure(EntityTypeBuilder<Experiment> builder)
    {
        builder.ToTable("Experiments");
        builder.Property(e => e.Name).HasMaxLength(TrackingRules.MaxExperimentNameLength).IsRequired();
        builder.HasIndex(e => e.Name).IsUnique();
        builder.Property(e => e.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(e => e.Tags).HasJsonConversion().IsRequired();
    }
}

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("Runs");
        builder.Property(r => r.Id).HasMaxLength(32).ValueGeneratedNever();
        builder.Property(r => r.Name).HasMaxLength(TrackingRules.MaxRunNameLength).IsRequired();
        builder.Property(r => r.UserId).HasMaxLength(256).IsRequired();
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Params).HasJsonConversion().IsRequired();
        builder.Property(r => r.Tags).HasJsonConversion().IsRequired();
        builder.Property(r => r.Metrics).HasJsonConversion().IsRequired();
        builder.Property(r => r.Inputs).HasJsonConversion().IsRequired();
        builder.Ignore(r => r.ParentRunId);
        builder.HasIndex(r => new { r.ExperimentId, r.StartTime, r.Id });
        builder.HasIndex(r => new { r.ExperimentId, r.Name });
        builder.HasIndex(r => new { r.Status, r.HeartbeatAt });
        builder.HasOne<Experiment>().WithMany().HasForeignKey(r => r.ExperimentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunSearchValueConfiguration : IEntityTypeConfiguration<RunSearchValue>
{
    public void Configure(EntityTypeBuilder<RunSearchValue> builder)
    {
        builder.ToTable("RunSearchValues");
        builder.HasKey(v => new { v.RunId, v.Kind, v.Key });
        builder.Property(v => v.RunId).HasMaxLength(32);
        builder.Property(v => v.Key).HasMaxLength(TrackingRules.MaxKeyLength);
        // Ordering a page of an experiment by one metric or param walks these in order and stops at the page.
        builder.HasIndex(v => new { v.ExperimentId, v.Kind, v.Key, v.Number, v.RunId });
        builder.HasIndex(v => new { v.ExperimentId, v.Kind, v.Key, v.Text, v.RunId });
        builder.HasOne<Run>().WithMany().HasForeignKey(v => v.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MetricPointRowConfiguration : IEntityTypeConfiguration<MetricPointRow>
{
    public void Configure(EntityTypeBuilder<MetricPointRow> builder)
    {
        builder.ToTable("MetricPoints");
        // The key is the dedupe rule: the same (run, key, step, timestamp, value) is the same point.
        builder.HasKey(p => new { p.RunId, p.Key, p.Step, p.Timestamp, p.Value, p.IsNan });
        builder.Property(p => p.RunId).HasMaxLength(32);
        builder.Property(p => p.Key).HasMaxLength(TrackingRules.MaxKeyLength);
        builder.HasOne<Run>().WithMany().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MetricRollupConfiguration : IEntityTypeConfiguration<MetricRollup>
{
    public void Configure(EntityTypeBuilder<MetricRollup> builder)
    {
        builder.ToTable("MetricRollups");
        builder.HasKey(r => new { r.RunId, r.Key, r.Level, r.Bucket });
        builder.Property(r => r.RunId).HasMaxLength(32);
        builder.Property(r => r.Key).HasMaxLength(TrackingRules.MaxKeyLength);
        builder.HasOne<Run>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunArtifactConfiguration : IEntityTypeConfiguration<RunArtifact>
{
    public void Configure(EntityTypeBuilder<RunArtifact> builder)
    {
        builder.ToTable("RunArtifacts");
        builder.HasKey(a => new { a.RunId, a.Path });
        builder.Property(a => a.RunId).HasMaxLength(32);
        builder.Property(a => a.Path).HasMaxLength(RunArtifact.MaxPathLength);
        builder.Property(a => a.Hash).HasMaxLength(64).IsFixedLength();
        builder.HasOne<Run>().WithMany().HasForeignKey(a => a.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("Jobs");
        builder.Property(j => j.Id).HasMaxLength(40).ValueGeneratedNever();
        builder.Property(j => j.RunId).HasMaxLength(32).IsRequired();
        builder.HasIndex(j => j.RunId).IsUnique();
        builder.HasIndex(j => new { j.Status, j.SubmittedAt });
        builder.HasIndex(j => j.SweepId);
        builder.Property(j => j.Command).HasMaxLength(Job.MaxCommandLength).IsRequired();
        builder.Property(j => j.CodePath).HasMaxLength(500);
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(j => j.Compute).HasMaxLength(50);
        builder.Property(j => j.SubmittedBy).HasMaxLength(256).IsRequired();
        builder.Property(j => j.Reason).HasMaxLength(2000);
        builder.Property(j => j.SweepId).HasMaxLength(40);
        builder.Property(j => j.Inputs).HasJsonConversion().IsRequired();
        builder.Property(j => j.Params).HasJsonConversion().IsRequired();
        builder.Property(j => j.Environment).HasJsonConversion().IsRequired();
        builder.HasOne<Run>().WithMany().HasForeignKey(j => j.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SweepConfiguration : IEntityTypeConfiguration<Sweep>
{
    public void Configure(EntityTypeBuilder<Sweep> builder)
    {
        builder.ToTable("Sweeps");
        builder.Property(s => s.Id).HasMaxLength(40).ValueGeneratedNever();
        builder.Property(s => s.Name).HasMaxLength(TrackingRules.MaxRunNameLength).IsRequired();
        builder.Property(s => s.ParentRunId).HasMaxLength(32).IsRequired();
        builder.Property(s => s.Command).HasMaxLength(Job.MaxCommandLength).IsRequired();
        builder.Property(s => s.CodePath).HasMaxLength(500);
        builder.Property(s => s.Objective).HasMaxLength(TrackingRules.MaxKeyLength).IsRequired();
        builder.Property(s => s.Strategy).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.Direction).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(s => s.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(s => s.Inputs).HasJsonConversion().IsRequired();
        builder.Property(s => s.Space).HasJsonConversion().IsRequired();
        builder.Property(s => s.Trials).HasJsonConversion().IsRequired();
        builder.HasIndex(s => s.ExperimentId);
    }
}
