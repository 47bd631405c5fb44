using Portal.Domain.Common;

namespace Portal.Domain.Lineage;

/// <summary>How data flowed along an edge, always from <see cref="LineageEdge.From"/> to <see cref="LineageEdge.To"/>.</summary>
public enum LineageRelation
{
    /// <summary>A run (or job) read the dataset: dataset → run.</summary>
    Consumed,

    /// <summary>A run (or job) wrote the artifact: run → dataset or model.</summary>
    Produced,

    /// <summary>An artifact was made from another without a recorded run: source → derived.</summary>
    DerivedFrom,

    /// <summary>A model version was registered from a run: run → model.</summary>
    RegisteredFrom,

    /// <summary>A model version serves in a deployment: model → deployment.</summary>
    DeployedAs,
}

/// <summary>One step of lineage. Edges are facts: recorded once, never changed.</summary>
public sealed class LineageEdge
{
    private LineageEdge()
    {
    }

    public long Id { get; private set; }

    public string From { get; private set; } = "";

    public string To { get; private set; } = "";

    public LineageRelation Relation { get; private set; }

    public DateTime RecordedAt { get; private set; }

    public string RecordedBy { get; private set; } = "";

    /// <summary>"portal", or "openlineage" for edges reported by other systems.</summary>
    public string Source { get; private set; } = "";

    public static LineageEdge Record(ArtifactRef from, ArtifactRef to, LineageRelation relation, Actor actor, TimeProvider time, string source = "portal")
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(actor);
        if (from == to)
        {
            throw new DomainException($"An artifact cannot be its own lineage ({from}).");
        }

        return new LineageEdge
        {
            From = from.ToString(),
            To = to.ToString(),
            Relation = relation,
            RecordedAt = time.UtcNow(),
            RecordedBy = actor.Name,
            Source = source,
        };
    }
}
