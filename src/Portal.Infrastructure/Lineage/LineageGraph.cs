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

    /// <summary>
    /// Records edges that are not there yet; returns how many were new. One query finds the edges already
    /// there and one save writes the rest, so the cost grows with the number of edges, not its square.
    /// </summary>
    public async Task<int> RecordAsync(IEnumerable<(ArtifactRef From, ArtifactRef To, LineageRelation Relation)> edges, Actor actor, string source, CancellationToken cancellationToken = default)
    {
        var wanted = edges.Select(e => (From: e.From.ToString(), To: e.To.ToString(), e.Relation)).Distinct().ToList();
        if (wanted.Count == 0)
        {
            return 0;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var froms = wanted.Select(e => e.From).Distinct(StringComparer.Ordinal).ToList();
        var tos = wanted.Select(e => e.To).Distinct(StringComparer.Ordinal).ToList();
        var existing = (await db.LineageEdges.AsNoTracking().Where(e => froms.Contains(e.From) && tos.Contains(e.To))
                .Select(e => new { e.From, e.To, e.Relation }).ToListAsync(cancellationToken))
            .Select(e => (e.From, e.To, e.Relation)).ToHashSet();
        var added = wanted.Where(e => !existing.Contains(e)).ToList();
        db.LineageEdges.AddRange(added.Select(e => LineageEdge.Record(ArtifactRef.Parse(e.From), ArtifactRef.Parse(e.To), e.Relation, actor, time, source)));
        await db.SaveChangesAsync(cancellationToken);
        return added.Count;
    }

    /// <summary>Which of <paramref name="references"/> name nothing the portal holds (dataset versions, runs, model versions, deployments).</summary>
    public async Task<IReadOnlySet<ArtifactRef>> MissingAsync(IReadOnlyCollection<ArtifactRef> references, CancellationToken cancellationToken = default)
    {
        var missing = new HashSet<ArtifactRef>();
        if (references.Count == 0)
        {
            return missing;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var datasets = references.Where(r => r.Kind == ArtifactKind.Dataset).ToList();
        var names = datasets.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        var versions = (await db.DatasetVersions.AsNoTracking().Join(db.Datasets.AsNoTracking().Where(d => names.Contains(d.Name)), v => v.DatasetId, d => d.Id, (v, d) => new { d.Name, v.Number })
            .ToListAsync(cancellationToken)).Select(v => ArtifactRef.Dataset(v.Name, v.Number)).ToHashSet();
        missing.UnionWith(datasets.Where(r => !versions.Contains(r)));

        var runIds = references.Where(r => r.Kind == ArtifactKind.Run).Select(r => r.Value).Distinct(StringComparer.Ordinal).ToList();
        var runs = (await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).Select(r => r.Id).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        missing.UnionWith(references.Where(r => r.Kind == ArtifactKind.Run && !runs.Contains(r.Value)));

        var models = references.Where(r => r.Kind == ArtifactKind.Model).ToList();
        var modelNames = models.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        var modelVersions = (await db.ModelVersions.AsNoTracking().Where(v => modelNames.Contains(v.ModelName)).Select(v => new { v.ModelName, v.Version })
            .ToListAsync(cancellationToken)).Select(v => $"{v.ModelName}:{v.Version}").ToHashSet(StringComparer.Ordinal);
        missing.UnionWith(models.Where(r => !modelVersions.Contains(r.Value)));

        // Deployments are known by the edges the portal recorded as it made them.
        foreach (var deployment in references.Where(r => r.Kind == ArtifactKind.Deployment).Distinct())
        {
            var r = deployment.ToString();
            if (!await db.LineageEdges.AsNoTracking().AnyAsync(e => (e.From == r || e.To == r) && e.Source == "portal", cancellationToken))
            {
                missing.Add(deployment);
            }
        }

        return missing;
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
        // Runs are shown by the names people gave them; the id stays in the reference.
        var runIds = refs.Select(ArtifactRef.Parse).Where(r => r.Kind == ArtifactKind.Run).Select(r => r.Value).ToList();
        var runNames = runIds.Count == 0 ? new Dictionary<string, string>() : await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id))
            .ToDictionaryAsync(r => r.Id, r => r.Name, StringComparer.Ordinal, cancellationToken);
        var nodes = refs.Select(r => Node(r, runNames)).ToList();
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

    public static LineageNode Node(string reference, IReadOnlyDictionary<string, string>? runNames = null)
    {
        var parsed = ArtifactRef.Parse(reference);
        var label = parsed.Kind switch
        {
            ArtifactKind.Dataset or ArtifactKind.Model => $"{parsed.Name} v{parsed.Version}",
            ArtifactKind.Run => runNames?.GetValueOrDefault(parsed.Value) is { } name ? $"run {name}" : $"run {parsed.Value}",
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
