using Portal.Domain.Lineage;

namespace Portal.Features.Lineage;

/// <summary>Lineage relations as people (and the API) name them.</summary>
public static class LineageWords
{
    public static string Relation(LineageRelation relation) => relation switch
    {
        LineageRelation.DerivedFrom => "derived-from",
        LineageRelation.RegisteredFrom => "registered-from",
        LineageRelation.DeployedAs => "deployed-as",
        _ => relation.ToString().ToLowerInvariant(),
    };
}
