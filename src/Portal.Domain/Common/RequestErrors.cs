namespace Portal.Domain.Common;

// The portal's small error vocabulary. Every layer throws one of four things, the API's exception handler maps
// each once (404, 400 with field errors, 409, 403), and pages show the message as is:
//   NotFoundException      — the id names nothing (never a 500);
//   InvalidInputException  — the request itself is wrong, per field;
//   DomainException        — a rule or the current state refuses it (a conflict);
//   NotPermittedException  — this actor may not do it.

/// <summary>What the request names does not exist (an unknown id, a deleted version).</summary>
public sealed class NotFoundException(string message) : DomainException(message);

/// <summary>The request's input is wrong; says which fields and why.</summary>
public sealed class InvalidInputException : DomainException
{
    public InvalidInputException(string field, string message)
        : this(new FieldErrors().Add(field, message))
    {
    }

    public InvalidInputException(FieldErrors errors)
        : base(errors?.ToString() ?? "")
    {
        ArgumentNullException.ThrowIfNull(errors);
        Errors = errors;
    }

    public FieldErrors Errors { get; }

    /// <summary>The first field named; the one a form focuses.</summary>
    public string Field => Errors.Fields.FirstOrDefault() ?? "";

    /// <summary>For messages written as "field: what is wrong".</summary>
    public static InvalidInputException FromMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new InvalidInputException(message.Split(':')[0].Trim(), message);
    }
}
