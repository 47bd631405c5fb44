using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Compute;
using Portal.Domain.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Says who a GPU reading or a process is charged to, and records each owner once with who was behind it
/// then: the user, the team they were in when the work started, the experiment, endpoint and model.
/// </summary>
public sealed class UsageAttribution(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    /// <summary>How long what a job label names is remembered (a run that did not exist yet may appear).</summary>
    private static readonly TimeSpan LabelsKept = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (UsageOwner? Owner, DateTime Until)> _labels = new(StringComparer.Ordinal);

    /// <summary><see cref="OwnerOfJobLabelAsync"/>, remembered for a minute: every scrape carries the same labels.</summary>
    public async Task<UsageOwner?> CachedOwnerOfJobLabelAsync(PortalDbContext db, string label, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_labels.TryGetValue(label, out var cached) && cached.Until > now)
        {
            return cached.Owner;
        }

        var owner = await OwnerOfJobLabelAsync(db, label, cancellationToken);
        if (_labels.Count > 10_000)
        {
            _labels.Clear();
        }

        _labels[label] = (owner, now + LabelsKept);
        return owner;
    }

    /// <summary>
    /// The owner DCGM named (<c>hpc_job</c>): a run id, a job id, <c>endpoint/deployment</c> or an owner key.
    /// Null when it names nothing the portal knows; the reading then counts as unallocated.
    /// </summary>
    public async Task<UsageOwner?> OwnerOfJobLabelAsync(PortalDbContext db, string label, CancellationToken cancellationToken)
    {
        if (UsageOwner.Parse(label) is { } parsed)
        {
            return await ExistsAsync(db, parsed, cancellationToken) ? parsed : null;
        }

        if (label.Split('/') is [var endpoint, var deployment] && endpoint.Length > 0 && deployment.Length > 0)
        {
            var owner = UsageOwner.ForDeployment(endpoint, deployment);
            return await ExistsAsync(db, owner, cancellationToken) ? owner : null;
        }

        if (await db.Runs.AsNoTracking().AnyAsync(r => r.Id == label, cancellationToken))
        {
            return UsageOwner.Run(label);
        }

        var runOfJob = await db.Jobs.AsNoTracking().Where(j => j.Id == label).Select(j => j.RunId).FirstOrDefaultAsync(cancellationToken);
        return runOfJob is null ? null : UsageOwner.Run(runOfJob);
    }

    private static async Task<bool> ExistsAsync(PortalDbContext db, UsageOwner owner, CancellationToken cancellationToken) => owner.Kind switch
    {
        UsageKind.Run => await db.Runs.AsNoTracking().AnyAsync(r => r.Id == owner.Id, cancellationToken),
        _ => await db.Endpoints.AsNoTracking().AnyAsync(e => e.Name == owner.Id, cancellationToken),
    };

    /// <summary>The local processes that may hold GPUs: running jobs' process groups and model servers.</summary>
    public async Task<IReadOnlyDictionary<int, UsageOwner>> LocalProcessOwnersAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var owners = new Dictionary<int, UsageOwner>();
        foreach (var job in await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Running && j.ProcessId != null).Select(j => new { j.ProcessId, j.RunId }).ToListAsync(cancellationToken))
        {
            owners[job.ProcessId!.Value] = UsageOwner.Run(job.RunId);
        }

        foreach (var instance in await db.ModelServerInstances.AsNoTracking().Where(i => i.Pid != null).Select(i => new { i.Pid, i.Endpoint, i.Deployment }).ToListAsync(cancellationToken))
        {
            owners[instance.Pid!.Value] = UsageOwner.ForDeployment(instance.Endpoint, instance.Deployment);
        }

        return owners;
    }

    /// <summary>
    /// The owner of process <paramref name="pid"/>: the owner whose process group leader, or any ancestor, it
    /// is. Jobs run in their own process group, but a job may start a new session; the parent chain catches that.
    /// </summary>
    public static UsageOwner? OwnerOfProcess(int pid, IReadOnlyDictionary<int, UsageOwner> owners)
    {
        var current = pid;
        for (var depth = 0; depth < 32 && current > 1; depth++)
        {
            if (owners.TryGetValue(current, out var owner))
            {
                return owner;
            }

            var stat = ReadStat(current);
            if (stat is null)
            {
                return null;
            }

            if (owners.TryGetValue(stat.Value.Group, out owner))
            {
                return owner;
            }

            current = stat.Value.Parent;
        }

        return null;
    }

    /// <summary>Parent and process group from <c>/proc/PID/stat</c> (the command name may hold spaces and parentheses).</summary>
    private static (int Parent, int Group)? ReadStat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Records the owners not seen before, with who is behind them now.</summary>
    public async Task RememberAsync(PortalDbContext db, IEnumerable<UsageOwner> owners, CancellationToken cancellationToken)
    {
        var keys = owners.Select(o => o.Key).Distinct(StringComparer.Ordinal).Where(k => !_known.ContainsKey(k)).ToList();
        if (keys.Count == 0)
        {
            return;
        }

        var known = (await db.UsageOwners.AsNoTracking().Where(o => keys.Contains(o.Owner)).Select(o => o.Owner).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!known.Contains(key))
            {
                db.UsageOwners.Add(await DescribeAsync(db, UsageOwner.Parse(key)!.Value, cancellationToken));
            }

            // Remembered once the caller's save succeeds or not: a failed save leaves an owner that is described again next time.
            if (known.Contains(key))
            {
                _known[key] = 0;
            }
        }
    }

    private async Task<UsageOwnerRow> DescribeAsync(PortalDbContext db, UsageOwner owner, CancellationToken cancellationToken)
    {
        var row = new UsageOwnerRow { Owner = owner.Key, Kind = owner.Kind, Label = owner.Key, FirstSeen = time.GetUtcNow().UtcDateTime };
        if (owner.Kind == UsageKind.Run)
        {
            var run = await db.Runs.AsNoTracking().Where(r => r.Id == owner.Id).Select(r => new { r.Name, r.UserId, r.ExperimentId }).FirstOrDefaultAsync(cancellationToken);
            if (run is not null)
            {
                row.Label = $"run {run.Name}";
                row.User = run.UserId;
                row.Experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == run.ExperimentId).Select(e => e.Name).FirstOrDefaultAsync(cancellationToken);
            }

            row.Model = await db.ModelVersions.AsNoTracking().Where(v => v.SourceRunId == owner.Id).Select(v => v.ModelName).FirstOrDefaultAsync(cancellationToken);
        }
        else
        {
            row.Label = $"{owner.Endpoint} / {owner.Deployment}";
            row.Endpoint = owner.Endpoint;
            row.Deployment = owner.Deployment;
            var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Name == owner.Id, cancellationToken);
            var deployment = endpoint?.Find(owner.Deployment!);
            row.Model = deployment?.ModelName;
            row.User = deployment?.CreatedBy ?? endpoint?.CreatedBy;
        }

        if (row.User is not null)
        {
            row.Team = await db.Users.AsNoTracking().Where(u => u.UserName == row.User).Select(u => u.Team).FirstOrDefaultAsync(cancellationToken);
        }

        return row;
    }
}
