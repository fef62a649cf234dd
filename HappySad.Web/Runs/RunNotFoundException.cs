namespace HappySad.Web.Runs;

public sealed class RunNotFoundException(int id) : Exception($"run {id} does not exist")
{
    public int Id { get; } = id;
}