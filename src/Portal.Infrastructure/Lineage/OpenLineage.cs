using System.Security.Cryptography;
using System.Text;
using Portal.Domain.Common;
using Portal.Domain.Lineage;

namespace Portal.Infrastructure.Lineage;

/// <summary>The parts of an OpenLineage RunEvent (spec 2-0-2) the portal reads and writes.</summary>
public sealed record OpenLineageEvent(
    string? EventType, DateTimeOffset? EventTime, OpenLineageRun? Run, OpenLineageJob? Job,
    IReadOnlyList<OpenLineageDataset>? Inputs, IReadOnlyList<OpenLineageDataset>? Outputs, string? Producer, string? SchemaURL);

public sealed record OpenLineageRun(string? RunId);

public sealed record OpenLineageJob(string? Namespace, string? Name);

public sealed record OpenLineageDataset(string? Namespace, string? Name);

/// <summary>
/// Maps OpenLineage run events to lineage edges and back. Datasets and runs of this portal use the
/// namespace <see cref="Namespace"/> with an artifact reference as name (<c>dataset:credit-risk:2</c>);
/// anything else becomes an <c>external:{namespace}/{name}</c> node.
/// </summary>
public static class OpenLineage
{
    public const string Namespace = "mlops-portal";
    public const string Producer = "https://github.com/mlops-portal/mlops-portal";
    public const string SchemaUrl = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

    private static readonly string[] EventTypes = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];

    /// <summary>
    /// Problems with an incoming event, per field; empty when it can be recorded. Besides the shape: at
    /// most <paramref name="maxDatasets"/> inputs and outputs each, and no edge into the portal's own runs,
    /// model versions or deployments — only the portal records what made those (a forged "produced" edge
    /// would rewrite a governed model's lineage).
    /// </summary>
    public static FieldErrors Check(OpenLineageEvent? e, int maxDatasets = int.MaxValue)
    {
        var errors = new FieldErrors();
        if (e is null)
        {
            return errors.Add("event", "Send an OpenLineage RunEvent as JSON.");
        }

        if (e.EventType is null || !EventTypes.Contains(e.EventType))
        {
            errors.Add("eventType", $"eventType is one of {string.Join(", ", EventTypes)}.");
        }

        if (e.EventTime is null)
        {
            errors.Add("eventTime", "eventTime is required (ISO 8601 with offset).");
        }

        if (!Guid.TryParse(e.Run?.RunId, out _))
        {
            errors.Add("run.runId", "run.runId is required and must be a UUID.");
        }

        if (string.IsNullOrWhiteSpace(e.Job?.Namespace) || string.IsNullOrWhiteSpace(e.Job?.Name))
        {
            errors.Add("job", "job.namespace and job.name are required.");
        }

        if (string.IsNullOrWhiteSpace(e.Producer))
        {
            errors.Add("producer", "producer (a URI naming the system that sent the event) is required.");
        }

        if (e.Job is { Namespace: Namespace, Name: { } jobName } && ArtifactRef.TryParse(jobName, out var jobRef, out _) && IsGoverned(jobRef.Kind))
        {
            errors.Add("job", $"job: {jobRef} is the portal's own; another system reports its jobs in its own namespace.");
        }

        foreach (var (list, field) in new[] { (e.Inputs, "inputs"), (e.Outputs, "outputs") })
        {
            if (list?.Count > maxDatasets)
            {
                errors.Add(field, $"{field}: at most {maxDatasets} per event (this one has {list.Count:N0}); send several events (Portal:Lineage:MaxDatasetsPerEvent).");
                continue;
            }

            for (var i = 0; i < (list?.Count ?? 0); i++)
            {
                var d = list![i];
                if (string.IsNullOrWhiteSpace(d.Namespace) || string.IsNullOrWhiteSpace(d.Name))
                {
                    errors.Add($"{field}[{i}]", "Each dataset needs a namespace and a name.");
                }
                else if (d.Namespace != Namespace)
                {
                    continue;
                }
                else if (!ArtifactRef.TryParse(d.Name, out var reference, out var problem))
                {
                    errors.Add($"{field}[{i}].name", problem);
                }
                else if (field == "outputs" && IsGoverned(reference.Kind))
                {
                    errors.Add($"{field}[{i}].name", $"{reference}: only the portal records what produced its runs, model versions and deployments.");
                }
            }
        }

        return errors;
    }

    /// <summary>The portal's own references an event names (in its namespace), which must exist.</summary>
    public static IReadOnlyList<(string Field, ArtifactRef Reference)> PortalReferences(OpenLineageEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return [.. new[] { (e.Inputs, "inputs"), (e.Outputs, "outputs") }
            .SelectMany(x => (x.Item1 ?? []).Select((d, i) => (Field: $"{x.Item2}[{i}].name", d)))
            .Where(x => x.d.Namespace == Namespace && ArtifactRef.TryParse(x.d.Name, out _, out _))
            .Select(x => (x.Field, ArtifactRef.Parse(x.d.Name!)))];
    }

    private static bool IsGoverned(ArtifactKind kind) => kind is ArtifactKind.Run or ArtifactKind.Model or ArtifactKind.Deployment;

    /// <summary>The edges a completed run stands for: each input → the job, the job → each output. Other event types add none.</summary>
    public static IReadOnlyList<(ArtifactRef From, ArtifactRef To, LineageRelation Relation)> Edges(OpenLineageEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.EventType != "COMPLETE")
        {
            return [];
        }

        var job = NodeOf(e.Job!.Namespace!, e.Job.Name!);
        return (e.Inputs ?? []).Select(i => (NodeOf(i.Namespace!, i.Name!), job, LineageRelation.Consumed))
            .Concat((e.Outputs ?? []).Select(o => (job, NodeOf(o.Namespace!, o.Name!), LineageRelation.Produced)))
            .ToList();
    }

    /// <summary>Our edges as run events: one COMPLETE event per run or job, with what it read and wrote.</summary>
    public static IReadOnlyList<OpenLineageEvent> Events(IEnumerable<LineageEdge> edges)
    {
        var byJob = new Dictionary<string, (List<string> Inputs, List<string> Outputs, DateTime At)>(StringComparer.Ordinal);
        foreach (var edge in edges)
        {
            var (job, dataset, isInput) = edge.Relation switch
            {
                LineageRelation.Consumed => (edge.To, edge.From, true),
                LineageRelation.Produced or LineageRelation.RegisteredFrom => (edge.From, edge.To, false),
                _ => (null, null, false),
            };
            if (job is null)
            {
                continue;
            }

            if (!byJob.TryGetValue(job, out var entry))
            {
                byJob[job] = entry = ([], [], edge.RecordedAt);
            }

            (isInput ? entry.Inputs : entry.Outputs).Add(dataset!);
            if (edge.RecordedAt > entry.At)
            {
                byJob[job] = entry with { At = edge.RecordedAt };
            }
        }

        return byJob.Select(j => new OpenLineageEvent(
            "COMPLETE", new DateTimeOffset(j.Value.At, TimeSpan.Zero), new OpenLineageRun(RunIdOf(j.Key).ToString()), JobOf(j.Key),
            j.Value.Inputs.Select(DatasetOf).ToList(), j.Value.Outputs.Select(DatasetOf).ToList(), Producer, SchemaUrl)).ToList();
    }

    private static ArtifactRef NodeOf(string @namespace, string name) =>
        @namespace == Namespace && ArtifactRef.TryParse(name, out var reference, out _)
            ? reference
            : ArtifactRef.External(Escape(@namespace), Escape(name));

    private static OpenLineageJob JobOf(string reference)
    {
        var parsed = ArtifactRef.Parse(reference);
        if (parsed.Kind != ArtifactKind.External)
        {
            return new OpenLineageJob(Namespace, reference);
        }

        var slash = parsed.Value.IndexOf('/', StringComparison.Ordinal);
        return new OpenLineageJob(Uri.UnescapeDataString(parsed.Value[..slash]), Uri.UnescapeDataString(parsed.Value[(slash + 1)..]));
    }

    private static OpenLineageDataset DatasetOf(string reference)
    {
        var job = JobOf(reference);
        return new OpenLineageDataset(job.Namespace, job.Name);
    }

    /// <summary>The same run always gets the same UUID, so consumers can de-duplicate the feed.</summary>
    private static Guid RunIdOf(string reference) => new(SHA256.HashData(Encoding.UTF8.GetBytes(reference)).AsSpan(0, 16));

    // Keeps '/' out of the namespace so namespace and name stay separable; spaces are not allowed in references.
    private static string Escape(string part) => Uri.EscapeDataString(part.Trim());
}
