using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Training.Training;
using HappySad.Web.Accounts;
using HappySad.Web.Runs;

namespace HappySad.Tests.Web.Runs;

/// <summary><c>PATCH /api/runs/{id}</c>: a run's name and notes, as an Editor gives them and everyone reads them.</summary>
public sealed class RunDescriptionTests : IDisposable
{
    readonly HappySadAppFactory _app = new();

    /// <summary>A run row to describe: a command-line run recorded but never started, so nothing trains.</summary>
    async Task<int> RecordRunAsync() =>
        (await _app.Service<RunService>().RecordFolderRunAsync(new RunRecipe { Epochs = 1 }, Path.GetTempPath())).Id;

    [Fact]
    public async Task AnEditorNamesARunAndEveryoneReadsTheCleanedNameAndNotes()
    {
        var id = await RecordRunAsync();
        using var editor = _app.CreateClientAs(AppRoles.Editor);
        using var viewer = _app.CreateClientAs(AppRoles.Viewer);

        using var named = await editor.PatchAsJsonAsync($"/api/runs/{id}", new { name = "  baseline\u202E  ", notes = "why:\r\nthe notebook's recipe " });

        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        var read = await viewer.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
        Assert.Equal("baseline", read.GetProperty("name").GetString());
        Assert.Equal("why:\nthe notebook's recipe", read.GetProperty("notes").GetString());
        var listed = (await viewer.GetFromJsonAsync<JsonElement>("/api/runs")).EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == id);
        Assert.Equal("baseline", listed.GetProperty("name").GetString());

        // A field left out keeps its value; an empty one clears it.
        using var cleared = await editor.PatchAsJsonAsync($"/api/runs/{id}", new { notes = "" });
        var after = await cleared.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("baseline", after.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("notes").ValueKind);
    }

    [Fact]
    public async Task ANameOrNotesTooLongAreRefusedWithProblemDetailsAndNothingChanges()
    {
        var id = await RecordRunAsync();
        using var editor = _app.CreateClientAs(AppRoles.Editor);
        await editor.PatchAsJsonAsync($"/api/runs/{id}", new { name = "kept" });

        using var refused = await editor.PatchAsJsonAsync($"/api/runs/{id}", new { name = new string('n', 101), notes = new string('x', 2001) });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(
            ["The name is 101 characters long; at most 100 are allowed.", "The notes are 2001 characters long; at most 2000 are allowed."],
            problem.GetProperty("errors").GetProperty("description").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("kept", (await _app.Service<RunService>().GetAsync(id))!.Name);
    }

    [Fact]
    public async Task AnUnknownRunIsNotFound()
    {
        using var editor = _app.CreateClientAs(AppRoles.Editor);

        using var response = await editor.PatchAsJsonAsync("/api/runs/999", new { name = "ghost" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("run 999 does not exist", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AViewerCannotNameARun()
    {
        var id = await RecordRunAsync();
        using var viewer = _app.CreateClientAs(AppRoles.Viewer);

        using var response = await viewer.PatchAsJsonAsync($"/api/runs/{id}", new { name = "mine" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null((await _app.Service<RunService>().GetAsync(id))!.Name);
    }

    public void Dispose() => _app.Dispose();
}
