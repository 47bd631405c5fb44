using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Datasets;
using Portal.Domain.Lineage;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> builder)
    {
        builder.ToTable("Datasets");
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Name).HasMaxLength(DatasetNames.MaxLength).IsRequired();
        builder.HasIndex(d => d.Name).IsUnique();
        builder.Property(d => d.Description).HasMaxLength(DatasetVersion.MaxDescriptionLength);
        builder.Property(d => d.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(d => d.Contracts).HasJsonConversion().IsRequired();
        builder.Ignore(d => d.Contract);
        builder.Ignore(d => d.Latest);
        builder.HasMany(d => d.Versions).WithOne().HasForeignKey(v => v.DatasetId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(d => d.Versions).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class DatasetVersionConfiguration : IEntityTypeConfiguration<DatasetVersion>
{
    public void Configure(EntityTypeBuilder<DatasetVersion> builder)
    {
        builder.ToTable("DatasetVersions");
        builder.Property(v => v.Id).ValueGeneratedNever();
        builder.HasIndex(v => new { v.DatasetId, v.Number }).IsUnique();
        // Same bytes, same version: the database refuses a second row even if two uploads race.
        builder.HasIndex(v => new { v.DatasetId, v.ContentHash }).IsUnique();
        builder.Property(v => v.ContentHash).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(v => v.Format).HasConversion<string>().HasMaxLength(20);
        builder.Property(v => v.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(v => v.FileName).HasMaxLength(255).IsRequired();
        builder.Property(v => v.Description).HasMaxLength(DatasetVersion.MaxDescriptionLength);
        builder.Property(v => v.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(v => v.Schema).HasJsonConversion().IsRequired();
        builder.Property(v => v.Profile).HasJsonConversion().IsRequired();
        builder.Property(v => v.Validation).HasJsonConversion().IsRequired();
        builder.Property(v => v.Pii).HasJsonConversion().IsRequired();
        builder.Property(v => v.Preview).HasJsonConversion().IsRequired();
        builder.Property(v => v.Tags).HasJsonConversion().IsRequired();
    }
}

internal sealed class LineageEdgeConfiguration : IEntityTypeConfiguration<LineageEdge>
{
    public void Configure(EntityTypeBuilder<LineageEdge> builder)
    {
        builder.ToTable("LineageEdges");
        builder.Property(e => e.From).HasMaxLength(ArtifactRef.MaxLength).IsRequired();
        builder.Property(e => e.To).HasMaxLength(ArtifactRef.MaxLength).IsRequired();
        builder.Property(e => e.Relation).HasConversion<string>().HasMaxLength(20);
        builder.Property(e => e.RecordedBy).HasMaxLength(256).IsRequired();
        builder.Property(e => e.Source).HasMaxLength(20).IsRequired();
        // An edge is a fact; recording it again changes nothing.
        builder.HasIndex(e => new { e.From, e.To, e.Relation }).IsUnique();
        builder.HasIndex(e => e.To);
    }
}
