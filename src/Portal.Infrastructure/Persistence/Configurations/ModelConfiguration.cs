using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Datasets;
using Portal.Domain.Models;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class RegisteredModelConfiguration : IEntityTypeConfiguration<RegisteredModel>
{
    public void Configure(EntityTypeBuilder<RegisteredModel> builder)
    {
        builder.ToTable("RegisteredModels");
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.Name).HasMaxLength(DatasetNames.MaxLength).IsRequired();
        builder.HasIndex(m => m.Name).IsUnique();
        builder.Property(m => m.Description).HasMaxLength(4000);
        builder.Property(m => m.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(m => m.Policy).HasJsonConversion();
        builder.Property(m => m.Validation).HasJsonConversion();
        builder.Property(m => m.Tags).HasJsonConversion().IsRequired();
        builder.Property(m => m.Aliases).HasJsonConversion().IsRequired();
    }
}

internal sealed class RegistryDefaultsConfiguration : IEntityTypeConfiguration<RegistryDefaults>
{
    public void Configure(EntityTypeBuilder<RegistryDefaults> builder)
    {
        builder.ToTable("RegistryDefaults");
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Policy).HasJsonConversion().IsRequired();
        builder.Property(d => d.Validation).HasJsonConversion().IsRequired();
        builder.Property(d => d.UpdatedBy).HasMaxLength(256).IsRequired();
    }
}

internal sealed class ModelVersionConfiguration : IEntityTypeConfiguration<ModelVersion>
{
    public void Configure(EntityTypeBuilder<ModelVersion> builder)
    {
        builder.ToTable("ModelVersions");
        builder.Property(v => v.Id).ValueGeneratedNever();
        builder.Property(v => v.ModelName).HasMaxLength(DatasetNames.MaxLength).IsRequired();
        builder.HasIndex(v => new { v.ModelName, v.Version }).IsUnique();
        builder.Property(v => v.SourceRunId).HasMaxLength(32).IsRequired();
        builder.Property(v => v.ArtifactPath).HasMaxLength(RunArtifact.MaxPathLength).IsRequired();
        builder.Property(v => v.ArtifactHash).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(v => v.Author).HasMaxLength(256).IsRequired();
        builder.Property(v => v.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(v => v.StateReason).HasMaxLength(4000);
        builder.Ignore(v => v.Label);
        builder.Property(v => v.Description).HasMaxLength(4000);
        builder.Property(v => v.Tags).HasJsonConversion().IsRequired();
        builder.Property(v => v.Metrics).HasJsonConversion().IsRequired();
        builder.Property(v => v.Signature).HasJsonConversion().IsRequired();
        builder.Property(v => v.TrainingDatasets).HasJsonConversion().IsRequired();
        builder.Property(v => v.Card).HasJsonConversion().IsRequired();
        builder.Property(v => v.Checks).HasJsonConversion().IsRequired();
        builder.Property(v => v.Evaluation).HasJsonConversion();
        builder.Property(v => v.EvaluationRunId).HasMaxLength(32);
        builder.HasIndex(v => v.EvaluationRunId);
        builder.HasIndex(v => v.State);
        builder.Property(v => v.Format).HasConversion<string>().HasMaxLength(20);
        builder.Property(v => v.Flavors).HasJsonConversion().IsRequired();
        builder.Property(v => v.InputExample).HasMaxLength(Portal.Infrastructure.Models.MlflowFolders.MaxInputExampleChars);
        builder.Property(v => v.Stage).HasMaxLength(20).IsRequired();
    }
}

internal sealed class ApprovalRequestConfiguration : IEntityTypeConfiguration<ApprovalRequest>
{
    public void Configure(EntityTypeBuilder<ApprovalRequest> builder)
    {
        builder.ToTable("ApprovalRequests");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.ModelName).HasMaxLength(DatasetNames.MaxLength).IsRequired();
        builder.HasIndex(r => new { r.ModelName, r.Version });
        builder.HasIndex(r => r.State);
        builder.Property(r => r.ArtifactHash).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(r => r.RequestedBy).HasMaxLength(256).IsRequired();
        builder.Property(r => r.Comment).HasMaxLength(4000);
        builder.Property(r => r.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.Policy).HasJsonConversion().IsRequired();
        builder.Ignore(r => r.ApprovalsGiven);
        builder.Property(r => r.Decisions).HasJsonConversion().IsRequired();
        // Two reviewers deciding at the same instant: the second save finds the stamp changed and fails.
        builder.Property(r => r.ConcurrencyStamp).IsConcurrencyToken();
    }
}
