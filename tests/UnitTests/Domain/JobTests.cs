using Portal.Domain.Common;
using Portal.Domain.Jobs;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

public class JobTests
{
    private readonly FixedTime _time = new();

    [Fact]
    public void ASubmittedJob_IsQueued_AndSaysSo()
    {
        var job = Some.Job(_time);

        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Equal("dana@demo.local", job.SubmittedBy);
        var changed = Assert.IsType<JobStatusChanged>(Assert.Single(job.DomainEvents));
        Assert.Equal(JobStatus.Queued, changed.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void AJobWithoutACommand_IsRefused_NamingTheField(string command)
    {
        var e = Assert.Throws<DomainException>(() => Job.Submit("run-1", 1, command, null, new Dictionary<string, string>(),
            new Dictionary<string, string>(), TimeSpan.FromMinutes(1), Some.Scientist, _time));

        Assert.StartsWith("command:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AJobKeepsItsOwnCopyOfInputsAndParams()
    {
        var inputs = new Dictionary<string, string> { ["train"] = "dataset:credit:1" };
        var job = Job.Submit("run-1", 1, "python3 train.py", null, inputs, new Dictionary<string, string>(), TimeSpan.FromMinutes(1), Some.Scientist, _time);

        inputs["train"] = "dataset:credit:2";

        Assert.Equal("dataset:credit:1", job.Inputs["train"]);
    }

    [Fact]
    public void OnlyAQueuedJob_CanStart()
    {
        var job = Some.Job(_time);
        _time.Advance(TimeSpan.FromSeconds(3));
        job.Started(4242, _time.UtcNow(), _time);

        Assert.Equal(JobStatus.Running, job.Status);
        Assert.Equal(4242, job.ProcessId);
        Assert.Equal(_time.UtcNow(), job.StartedAt);
        Assert.Throws<DomainException>(() => job.Started(4243, _time.UtcNow(), _time));
    }

    [Theory]
    [InlineData(0, JobStatus.Completed, null)]
    [InlineData(1, JobStatus.Failed, "exit code 1")]
    public void TheExitCodeDecidesHowARunningJobEnds(int exitCode, JobStatus status, string? reason)
    {
        var job = Some.Job(_time);
        job.Started(4242, _time.UtcNow(), _time);

        job.Ended(exitCode, null, _time);

        Assert.Equal(status, job.Status);
        Assert.Equal(reason, job.Reason);
        Assert.Null(job.ProcessId);
        Assert.NotNull(job.EndedAt);
    }

    [Fact]
    public void AnEndedJob_StaysAsItEnded()
    {
        var job = Some.Job(_time);
        job.Started(4242, _time.UtcNow(), _time);
        job.Ended(0, null, _time);

        job.Ended(1, "lost", _time);
        job.FailedToStart("missing input", _time);

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.False(job.RequestCancel(Some.Scientist, _time));
    }

    [Fact]
    public void CancelingAQueuedJob_CancelsItAtOnce()
    {
        var job = Some.Job(_time);

        Assert.True(job.RequestCancel(Some.Scientist, _time));

        Assert.Equal(JobStatus.Canceled, job.Status);
        Assert.Equal("canceled by dana@demo.local", job.Reason);
    }

    [Fact]
    public void ARunningJobAskedToCancel_EndsCanceled_EvenWhenItsProcessExitsWithAnError()
    {
        var job = Some.Job(_time);
        job.Started(4242, _time.UtcNow(), _time);

        Assert.True(job.RequestCancel(Some.Admin, _time));
        Assert.Equal(JobStatus.Running, job.Status);
        job.Ended(143, null, _time);

        Assert.Equal(JobStatus.Canceled, job.Status);
        Assert.Equal("canceled by ada@demo.local", job.Reason);
    }

    [Fact]
    public void OnlyTheSubmitterOrAnAdministrator_MayCancelAJob()
    {
        var job = Some.Job(_time);

        foreach (var other in new[] { Some.OtherScientist, Some.Reviewer, Some.Ops })
        {
            var e = Assert.Throws<NotPermittedException>(() => job.RequestCancel(other, _time));
            Assert.Contains("submitted by dana@demo.local", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Null(job.CancelRefusal(Some.Admin));
        Assert.Null(job.CancelRefusal(Some.Scientist));
    }

    [Fact]
    public void ThePortalsOwnJobs_AreOnlyAnAdministratorsToCancel()
    {
        var job = Some.Job(_time, Actor.System, isSystem: true);

        Assert.Contains("only an administrator", job.CancelRefusal(Some.Scientist), StringComparison.Ordinal);
        Assert.Null(job.CancelRefusal(Some.Admin));
    }
}
