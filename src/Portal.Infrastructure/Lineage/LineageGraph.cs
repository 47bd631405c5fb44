using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Lineage;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Lineage;

public enum LineageDirection
{
    Upstream,
    Downstream,
    Both,
}

public sealed record LineageNode(string Ref, ArtifactKind Kind, string Label);

public sealed record LineageLink(string From, string To, LineageRelation Relation);

/// <summary>The part of the graph around an artifact, with each node's distance from it (negative upstream).</summary>
public sealed record LineageView(string Root, IReadOnlyList<LineageNode> Nodes, IReadOnlyList<LineageLink> Edges, IReadOnlyDictionary<string, int> Distance);

/// <summary>
/// Lineage edges between artifacts, and walks over them. A walk is one recursive query (the same SQL on
/// SQLite and PostgreSQL), bounded by depth, so it costs one round trip whatever the graph's size.
/// </summary>
public sealed class LineageGraph(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const int MaxDepth = 20;

    /// <summary>Records edges that are not there yet; returns how many were new.</summary>
    public async Task<int> RecordAsync(IEnumerable<(ArtifactRef From, ArtifactRef To, LineageRelation Relation)> edges, Actor actor, string source, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var added = 0;
        foreach (var (from, to, relation) in edges.Distinct())
        {
            var f = from.ToString();
            var t = to.ToString();
            if (!await db.LineageEdges.AnyAsync(e => e.From == f && e.To == t && e.Relation == relation, cancellationToken)
                && !db.LineageEdges.Local.Any(e => e.From == f && e.To == t && e.Relation == relation))
            {
                db.LineageEdges.Add(LineageEdge.Record(from, to, relation, actor, time, source));
                added++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        return added;
    }

    public async Task<LineageView> WalkAsync(ArtifactRef root, LineageDirection direction, int depth, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        depth = Math.Clamp(depth, 1, MaxDepth);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var start = root.ToString();
        var edges = new List<EdgeRow>();
        var distance = new Dictionary<string, int>(StringComparer.Ordinal) { [start] = 0 };
        if (direction is LineageDirection.Downstream or LineageDirection.Both)
        {
            var down = await WalkOneWayAsync(db, start, depth, downstream: true, cancellationToken);
            edges.AddRange(down);
            Distances(start, down, downstream: true, distance);
        }

        if (direction is LineageDirection.Upstream or LineageDirection.Both)
        {
            var up = await WalkOneWayAsync(db, start, depth, downstream: false, cancellationToken);
            edges.AddRange(up);
            Distances(start, up, downstream: false, distance);
        }

        var links = edges.DistinctBy(e => (e.From, e.To, e.Relation))
            .Select(e => new LineageLink(e.From, e.To, Enum.Parse<LineageRelation>(e.Relation))).ToList();
        var refs = links.SelectMany(l => new[] { l.From, l.To }).Append(start).Distinct(StringComparer.Ordinal).ToList();
        var nodes = refs.Select(r => Node(r)).ToList();
        return new LineageView(start, nodes, links, distance);
    }

    /// <summary>Artifact references in the graph that contain <paramref name="text"/>, for search boxes.</summary>
    public async Task<IReadOnlyList<string>> SearchAsync(string text, int take = 20, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var needle = (text ?? "").Trim().ToLowerInvariant();
        var datasetRefs = db.DatasetVersions
            .Join(db.Datasets, v => v.DatasetId, d => d.Id, (v, d) => "dataset:" + d.Name + ":" + v.Number);
        var edgeRefs = db.LineageEdges.Select(e => e.From).Union(db.LineageEdges.Select(e => e.To));
        return await datasetRefs.Union(edgeRefs)
            .Where(r => r.ToLower().Contains(needle))
            .OrderBy(r => r).Take(Math.Clamp(take, 1, 100)).ToListAsync(cancellationToken);
    }

    public async Task<bool> KnowsAsync(ArtifactRef reference, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var r = reference.ToString();
        if (await db.LineageEdges.AnyAsync(e => e.From == r || e.To == r, cancellationToken))
        {
            return true;
        }

        return reference.Kind == ArtifactKind.Dataset
            && await db.DatasetVersions.AnyAsync(v => v.Number == reference.Version && db.Datasets.Any(d => d.Id == v.DatasetId && d.Name == reference.Name), cancellationToken);
    }

    /// <summary>Edges recorded since a time, oldest first (for the OpenLineage feed).</summary>
    public async Task<IReadOnlyList<LineageEdge>> EdgesSinceAsync(DateTime since, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.LineageEdges.AsNoTracking().Where(e => e.RecordedAt >= since)
            .OrderBy(e => e.Id).Take(Math.Clamp(take, 1, 10_000)).ToListAsync(cancellationToken);
    }

    public static LineageNode Node(string reference)
    {
        var parsed = ArtifactRef.Parse(reference);
        var label = parsed.Kind switch
        {
            ArtifactKind.Dataset or ArtifactKind.Model => $"{parsed.Name} v{parsed.Version}",
            ArtifactKind.Run => $"run {parsed.Value}",
            ArtifactKind.Deployment => parsed.Value.Replace(':', '/'),
            _ => parsed.Value,
        };
        return new LineageNode(reference, parsed.Kind, label);
    }

    private static async Task<List<EdgeRow>> WalkOneWayAsync(PortalDbContext db, string start, int depth, bool downstream, CancellationToken cancellationToken)
    {
        // Identifiers are quoted for PostgreSQL, where EF created them with capitals; SQLite accepts the quotes too.
        // The walk carries the edges themselves, so every step is an index lookup from the frontier; a
        // second join from the reached nodes back to the edges made SQLite scan the whole table.
        var near = downstream ? "\"From\"" : "\"To\"";
        var next = downstream ? "w.dst" : "w.src";
        var sql = $$"""
            WITH RECURSIVE walk(src, dst, rel, depth) AS (
                SELECT e."From", e."To", e."Relation", 1 FROM "LineageEdges" e WHERE e.{{near}} = {0}
                UNION
                SELECT e."From", e."To", e."Relation", w.depth + 1 FROM "LineageEdges" e JOIN walk w ON e.{{near}} = {{next}} WHERE w.depth < {1}
            )
            SELECT DISTINCT src AS "From", dst AS "To", rel AS "Relation" FROM walk
            """;
        return await db.Database.SqlQueryRaw<EdgeRow>(sql, start, depth).ToListAsync(cancellationToken);
    }

    private static void Distances(string start, List<EdgeRow> edges, bool downstream, Dictionary<string, int> distance)
    {
        var next = edges.ToLookup(e => downstream ? e.From : e.To, e => downstream ? e.To : e.From, StringComparer.Ordinal);
        var frontier = new Queue<(string Node, int Steps)>([(start, 0)]);
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        while (frontier.Count > 0)
        {
            var (node, steps) = frontier.Dequeue();
            foreach (var other in next[node])
            {
                if (seen.Add(other))
                {
                    distance.TryAdd(other, downstream ? steps + 1 : -(steps + 1));
                    frontier.Enqueue((other, steps + 1));
                }
            }
        }
    }

    private sealed class EdgeRow
    {
        public string From { get; set; } = "";

        public string To { get; set; } = "";

        public string Relation { get; set; } = "";
    }
}
