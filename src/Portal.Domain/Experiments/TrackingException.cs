using Portal.Domain.Common;

namespace Portal.Domain.Experiments;

/// <summary>MLflow's error codes for the failures the tracking API reports (databricks.proto ErrorCode).</summary>
public enum TrackingError
{
    InvalidParameterValue,
    ResourceDoesNotExist,
    ResourceAlreadyExists,
    InvalidState,
}

/// <summary>A refused tracking call; the message is MLflow-like and fit to show to the person who made it.</summary>
public sealed class TrackingException(TrackingError error, string message) : DomainException(message)
{
    public TrackingError Error { get; } = error;

    /// <summary>The code as MLflow's JSON spells it, e.g. <c>INVALID_PARAMETER_VALUE</c>.</summary>
    public string Code => Error switch
    {
        TrackingError.InvalidParameterValue => "INVALID_PARAMETER_VALUE",
        TrackingError.ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
        TrackingError.ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
        _ => "INVALID_STATE",
    };

    public static TrackingException Invalid(string message) => new(TrackingError.InvalidParameterValue, message);
}
