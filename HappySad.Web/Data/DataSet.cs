namespace HappySad.Web.Data;

/// <summary>A named photo collection with exactly two classes, stored under <c>datasets/{Id}/</c>.</summary>
public sealed class DataSet
{
    public int Id { get; set; }
    public required string Name { get; set; }

    /// <summary>The two class names in ordinal order, which is the model's label order (Keras's).</summary>
    public List<string> ClassNames { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }
    public List<Photo> Photos { get; set; } = [];
}
