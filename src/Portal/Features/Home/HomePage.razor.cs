using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Audit;
using Portal.Infrastructure.Demo;
using Portal.Infrastructure.Identity;
using Portal.Security;

namespace Portal.Features.Home;

/// <summary>Greets each persona with what needs them, kept current by live events.</summary>
public sealed partial class HomePage
{
    private Actor _actor = Actor.Anonymous;
    private string _displayName = "";
    private DemoSeedingProgressed? _seeding;
    private AdminSummary? _admin;
    private int _activeTokens;
    private IReadOnlyList<Infrastructure.Jobs.NamedJob> _myJobs = [];
    private IReadOnlyList<Infrastructure.Models.InboxRow> _myReviews = [];
    private int _openReviews;
    private IReadOnlyList<Portal.Features.Deployments.EndpointRow> _attention = [];
    private IReadOnlyList<Domain.Monitoring.Alert> _alerts = [];
    private int _endpointCount;

    [Inject]
    private DemoSeeder Seeder { get; set; } = default!;

    [Inject]
    private AuditTrail Audit { get; set; } = default!;

    [Inject]
    private UserDirectory Users { get; set; } = default!;

    [Inject]
    private AccessTokenService Tokens { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private Infrastructure.Jobs.JobService Jobs { get; set; } = default!;

    [Inject]
    private Infrastructure.Models.EvidencePacks Packs { get; set; } = default!;

    [Inject]
    private Infrastructure.Deployments.EndpointService Endpoints { get; set; } = default!;

    [Inject]
    private Infrastructure.Serving.ServingMonitor Monitor { get; set; } = default!;

    [Inject]
    private Infrastructure.Monitoring.AlertService Alerts { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        _actor = user.ToActor();
        _displayName = await Users.DisplayNameOfAsync(_actor.Name);
        _seeding = Seeder.Progress;
        var now = Time.GetUtcNow().UtcDateTime;
        _activeTokens = (await Tokens.ListAsync(_actor.Name)).Count(t => t.StatusAt(now) == AccessTokenStatus.Active);
        await LoadAdminSummaryAsync();
        if (_actor.IsIn(Roles.DataScientist))
        {
            _myJobs = await Jobs.MineAsync(_actor.Name, 5, Showing);
        }

        await LoadReviewsAsync();
        await LoadOpsAsync();
    }

    /// <summary>For Ops: endpoints that are unhealthy, drifting, erring or mid-rollout, and the alerts still open.</summary>
    private async Task LoadOpsAsync()
    {
        if (!_actor.IsIn(Roles.Ops))
        {
            return;
        }

        var now = Time.GetUtcNow().UtcDateTime;
        var endpoints = await Endpoints.ListAsync(Showing);
        _endpointCount = endpoints.Count;
        _attention = [.. endpoints.Select(e => Portal.Features.Deployments.EndpointRow.Of(e, Monitor, now)).Where(r => r.NeedsAttention)];
        _alerts = (await Alerts.ListAsync(new Infrastructure.Monitoring.AlertQuery(Take: 10), Showing)).Alerts;
    }

    private static IEnumerable<string> Attention(Portal.Features.Deployments.EndpointRow row)
    {
        if (row.Rollout is { } rollout)
        {
            yield return rollout;
        }

        if (row.Drifted)
        {
            yield return $"inputs drifting ({row.Drift:0.00})";
        }

        if (row.ErrorRate > 0.05)
        {
            yield return $"{row.ErrorRate:0.#%} errors";
        }
    }

    protected override void OnInitialized()
    {
        Live<DemoSeedingProgressed>(batch =>
        {
            _seeding = batch[^1];
            return Task.CompletedTask;
        });
        Live<Domain.Jobs.JobStatusChanged>(async () =>
        {
            if (_actor.IsIn(Roles.DataScientist))
            {
                _myJobs = await Jobs.MineAsync(_actor.Name, 5, Showing);
            }
        });
        Live<IDomainEvent>(LoadReviewsAsync, e => e is Domain.Models.ApprovalRequested or Domain.Models.ApprovalDecided);
        Live<AuditEntryRecorded>(LoadAdminSummaryAsync, e => e.IsSecurityEvent, TimeSpan.FromSeconds(1));
        Live<IDomainEvent>(LoadOpsAsync, e => e.Subject.StartsWith("endpoint:", StringComparison.Ordinal) && e is not Infrastructure.Serving.ServingFiguresUpdated
            || e is Domain.Monitoring.AlertRaised or Domain.Monitoring.AlertChanged, TimeSpan.FromSeconds(2));
    }

    /// <summary>Open requests this reviewer can still decide on (not their own, not decided yet), oldest first.</summary>
    private async Task LoadReviewsAsync()
    {
        if (!_actor.IsIn(Roles.RiskReviewer))
        {
            return;
        }

        var (rows, total) = await Packs.InboxAsync(new Infrastructure.Models.ApprovalQuery(Domain.Models.ApprovalState.Open, Take: 5, DecidableBy: _actor), Showing);
        (_openReviews, _myReviews) = (total, rows);
    }

    private async Task LoadAdminSummaryAsync()
    {
        if (!_actor.IsIn(Roles.Admin))
        {
            return;
        }

        var since = Time.GetUtcNow().UtcDateTime.AddDays(-1);
        var security = await Audit.SearchAsync(new AuditQuery(ActionPrefix: "security.", From: since, Take: 1));
        var (people, locked) = await Users.CountAsync();
        _admin = new AdminSummary(security.Total, people, locked);
    }

    private sealed record AdminSummary(int SecurityEvents, int Users, int Locked);
}
