using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Identity;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class AccessTokenConfiguration : IEntityTypeConfiguration<AccessToken>
{
    public void Configure(EntityTypeBuilder<AccessToken> builder)
    {
        builder.ToTable("AccessTokens");
        builder.Property(t => t.Id).ValueGeneratedNever();
        builder.Property(t => t.OwnerUserName).HasMaxLength(256).IsRequired();
        builder.Property(t => t.Name).HasMaxLength(AccessToken.MaxNameLength).IsRequired();
        builder.Property(t => t.DisplayPrefix).HasMaxLength(16).IsRequired();
        builder.Property(t => t.SecretHash).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(t => t.RevokedBy).HasMaxLength(256);
        builder.HasIndex(t => t.SecretHash).IsUnique();
        builder.HasIndex(t => t.OwnerUserName);
    }
}
