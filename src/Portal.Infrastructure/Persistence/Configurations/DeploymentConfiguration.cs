using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Deployments;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class EndpointConfiguration : IEntityTypeConfiguration<Endpoint>
{
    public void Configure(EntityTypeBuilder<Endpoint> builder)
    {
        builder.ToTable("Endpoints");
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Name).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.HasIndex(e => e.Name).IsUnique();
        builder.Property(e => e.Description).HasMaxLength(Endpoint.MaxDescription);
        builder.Property(e => e.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(e => e.Assignment).HasJsonConversion().IsRequired();
        builder.Property(e => e.History).HasJsonConversion().IsRequired();
        builder.Property(e => e.ActiveRollout).HasJsonConversion();
        builder.Property(e => e.PastRollouts).HasJsonConversion().IsRequired();
        builder.Property(e => e.PrimaryKeyHash).HasMaxLength(64).IsRequired();
        builder.Property(e => e.SecondaryKeyHash).HasMaxLength(64).IsRequired();
        builder.Ignore(e => e.Ref);
        // Two people editing traffic at once: the second save finds the stamp changed and is refused (409).
        builder.Property(e => e.ConcurrencyStamp).IsConcurrencyToken();
        builder.OwnsMany(e => e.Deployments, d =>
        {
            d.ToTable("Deployments");
            d.WithOwner().HasForeignKey("EndpointId");
            d.HasKey("EndpointId", nameof(Deployment.Name));
            d.Property(x => x.Name).HasMaxLength(EndpointNames.MaxLength);
            d.Property(x => x.ModelName).HasMaxLength(Domain.Datasets.DatasetNames.MaxLength).IsRequired();
            d.Property(x => x.ArtifactHash).HasMaxLength(64).IsFixedLength().IsRequired();
            d.Property(x => x.State).HasConversion<string>().HasMaxLength(20);
            d.Property(x => x.StateReason).HasMaxLength(4000);
            d.Property(x => x.CreatedBy).HasMaxLength(256).IsRequired();
            d.Property(x => x.Liveness).HasJsonConversion().IsRequired();
            d.Property(x => x.Readiness).HasJsonConversion().IsRequired();
            d.Ignore(x => x.ModelRef);
            d.Ignore(x => x.IsServing);
            d.Ignore(x => x.MayTakeTraffic);
            d.HasIndex(x => new { x.ModelName, x.ModelVersion });
        });
        builder.Navigation(e => e.Deployments).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class AlertRuleConfiguration : IEntityTypeConfiguration<AlertRule>
{
    public void Configure(EntityTypeBuilder<AlertRule> builder)
    {
        builder.ToTable("AlertRules");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Name).HasMaxLength(100).IsRequired();
        builder.Property(r => r.Endpoint).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(r => r.Deployment).HasMaxLength(EndpointNames.MaxLength);
        builder.Property(r => r.Metric).HasConversion<string>().HasMaxLength(40);
        builder.Property(r => r.Comparison).HasConversion<string>().HasMaxLength(10);
        builder.Property(r => r.Severity).HasConversion<string>().HasMaxLength(10);
        builder.Property(r => r.CreatedBy).HasMaxLength(256).IsRequired();
        builder.HasIndex(r => r.Endpoint);
    }
}

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> builder)
    {
        builder.ToTable("Alerts");
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Source).HasMaxLength(200).IsRequired();
        builder.Property(a => a.Endpoint).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(a => a.Deployment).HasMaxLength(EndpointNames.MaxLength);
        builder.Property(a => a.Metric).HasConversion<string>().HasMaxLength(40);
        builder.Property(a => a.Severity).HasConversion<string>().HasMaxLength(10);
        builder.Property(a => a.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(a => a.Title).HasMaxLength(300).IsRequired();
        builder.Property(a => a.Message).HasMaxLength(4000).IsRequired();
        builder.Property(a => a.AcknowledgedBy).HasMaxLength(256);
        builder.Property(a => a.ResolvedReason).HasMaxLength(1000);
        builder.Property(a => a.RetrainRunId).HasMaxLength(32);
        builder.Ignore(a => a.IsOpen);
        builder.Ignore(a => a.OffersRetrain);
        builder.HasIndex(a => new { a.State, a.RaisedAt });
        builder.HasIndex(a => new { a.RuleId, a.Deployment, a.State });
        builder.HasIndex(a => a.Endpoint);
    }
}

internal sealed class ModelServerInstanceConfiguration : IEntityTypeConfiguration<ModelServerInstance>
{
    public void Configure(EntityTypeBuilder<ModelServerInstance> builder)
    {
        builder.ToTable("ModelServerInstances");
        builder.Property(i => i.Id).ValueGeneratedNever();
        builder.Property(i => i.Endpoint).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(i => i.Deployment).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(i => i.WorkFolder).HasMaxLength(1000).IsRequired();
        builder.HasIndex(i => new { i.Endpoint, i.Deployment, i.Index, i.Generation }).IsUnique();
    }
}

internal sealed class ServingMinuteConfiguration : IEntityTypeConfiguration<ServingMinute>
{
    public void Configure(EntityTypeBuilder<ServingMinute> builder)
    {
        builder.ToTable("ServingMinutes");
        builder.Property(m => m.Endpoint).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(m => m.Deployment).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(m => m.ByStatus).HasJsonConversion().IsRequired();
        builder.Property(m => m.GatewayLatency).HasJsonConversion().IsRequired();
        builder.Property(m => m.ModelLatency).HasJsonConversion().IsRequired();
        builder.Property(m => m.TotalLatency).HasJsonConversion().IsRequired();
        builder.HasIndex(m => new { m.Endpoint, m.Deployment, m.Minute }).IsUnique();
        builder.HasIndex(m => m.Minute);
    }
}

internal sealed class ScoringSampleConfiguration : IEntityTypeConfiguration<ScoringSample>
{
    public void Configure(EntityTypeBuilder<ScoringSample> builder)
    {
        builder.ToTable("ScoringSamples");
        builder.Property(s => s.Endpoint).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(s => s.Deployment).HasMaxLength(EndpointNames.MaxLength).IsRequired();
        builder.Property(s => s.Inputs).IsRequired();
        builder.Property(s => s.Outputs).IsRequired();
        builder.HasIndex(s => new { s.Endpoint, s.Deployment, s.Id });
        builder.HasIndex(s => s.At);
    }
}
