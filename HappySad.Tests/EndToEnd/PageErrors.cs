using Microsoft.Playwright;

namespace HappySad.Tests.EndToEnd;

/// <summary>Every console error and uncaught exception of a page, from the moment it is watched.</summary>
internal sealed class PageErrors
{
    readonly List<string> _errors = [];

    PageErrors(IPage page)
    {
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                lock (_errors) _errors.Add(message.Text);
        };
        page.PageError += (_, error) => { lock (_errors) _errors.Add(error); };
    }

    public static PageErrors Watch(IPage page) => new(page);

    /// <summary>Fails with every error seen so far.</summary>
    public void AssertNone()
    {
        lock (_errors)
            Assert.True(_errors.Count == 0, string.Join("\n", _errors));
    }
}
