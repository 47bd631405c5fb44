namespace Portal.Infrastructure.Serving;

/// <summary>
/// A model server process the local backend started, as the database remembers it, so a restarted portal
/// finds its instances again (re-attaches when the process is alive, starts a new one when it is not).
/// </summary>
public sealed class ModelServerInstance
{
    public Guid Id { get; set; }

    public string Endpoint { get; set; } = "";

    public string Deployment { get; set; } = "";

    /// <summary>0, 1, … up to the deployment's instance count.</summary>
    public int Index { get; set; }

    /// <summary>The deployment generation (settings) it runs.</summary>
    public int Generation { get; set; }

    public int? Pid { get; set; }

    public DateTime? ProcessStartedAt { get; set; }

    public int Port { get; set; }

    public string WorkFolder { get; set; } = "";

    public DateTime StartedAt { get; set; }

    public int Restarts { get; set; }
}

/// <summary>
/// One minute of a deployment's scoring, kept so charts reach back further than the live window and survive
/// a restart: requests and errors, answers by status, and latency histograms (gateway, model, total) over
/// <see cref="LatencyBuckets"/>.
/// </summary>
public sealed class ServingMinute
{
    public long Id { get; set; }

    public string Endpoint { get; set; } = "";

    public string Deployment { get; set; } = "";

    /// <summary>The minute's start (UTC).</summary>
    public DateTime Minute { get; set; }

    public long Requests { get; set; }

    public long Errors { get; set; }

    public Dictionary<string, long> ByStatus { get; set; } = [];

    public long[] GatewayLatency { get; set; } = [];

    public long[] ModelLatency { get; set; } = [];

    public long[] TotalLatency { get; set; } = [];

    public long Mirrored { get; set; }

    public long MirrorFailed { get; set; }

    public long MirrorCompared { get; set; }

    public long MirrorDisagreed { get; set; }
}

/// <summary>
/// A sampled scoring request: its inputs (the training data's sensitive columns redacted) and the model's
/// answer, for monitoring and for people to look at. Retention is bounded by count and age.
/// </summary>
public sealed class ScoringSample
{
    public long Id { get; set; }

    public string Endpoint { get; set; } = "";

    public string Deployment { get; set; } = "";

    public DateTime At { get; set; }

    public int Status { get; set; }

    public double LatencyMs { get; set; }

    /// <summary>The request's rows as JSON (at most the first few), sensitive columns replaced by a mask.</summary>
    public string Inputs { get; set; } = "[]";

    /// <summary>The predictions as JSON, or the error the caller got.</summary>
    public string Outputs { get; set; } = "[]";

    /// <summary>Rows in the request (the sample may keep fewer).</summary>
    public int Rows { get; set; }

    /// <summary>The traffic generator's requests are labelled so pages can say so.</summary>
    public bool IsSampleTraffic { get; set; }
}
