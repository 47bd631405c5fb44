using Portal.Domain.Common;

namespace Portal.Domain.Experiments;

/// <summary>Something happened to a run; live views of its experiment or of the run itself react.</summary>
public interface IRunEvent : IDomainEvent
{
    string RunId { get; }

    long ExperimentId { get; }
}
