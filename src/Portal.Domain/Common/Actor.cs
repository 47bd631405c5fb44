namespace Portal.Domain.Common;

/// <summary>Who is doing something: a user name (an e-mail for local accounts) and the roles they hold.</summary>
public sealed record Actor
{
    public Actor(string name, IEnumerable<string>? roles = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new DomainException("An action needs a named actor.");
        }

        Name = name.Trim();
        Roles = roles?.ToHashSet(StringComparer.Ordinal) ?? [];
    }

    public string Name { get; }

    public IReadOnlySet<string> Roles { get; }

    /// <summary>The portal itself, for work nobody asked for in person (seeding, background checks).</summary>
    public static Actor System { get; } = new("system");

    /// <summary>A caller we could not identify; used for security events.</summary>
    public static Actor Anonymous { get; } = new("anonymous");

    public bool IsIn(string role) => Roles.Contains(role);

    /// <summary>
    /// A data scientist or an administrator: who registers data, logs runs, submits jobs and registers models.
    /// The one place this pairing is written.
    /// </summary>
    public bool BuildsModels => IsIn(Identity.Roles.DataScientist) || IsIn(Identity.Roles.Admin);

    public override string ToString() => Name;
}
