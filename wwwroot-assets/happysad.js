// Browser-side helpers for the whole HappySad dashboard: the remembered colour scheme, the skip link,
// keyboard file choosers and focus after navigating. Code for one component lives next to it as a
// module (Component.razor.js).
window.happySad = (() => {
    const themeKey = "happysad.darkMode";

    // The skip link focuses the page's content in place: its #fragment would otherwise resolve
    // against <base href="/"> and leave the page.
    document.addEventListener("click", e => {
        const link = e.target.closest && e.target.closest("a.skip-link");
        const main = link && document.getElementById("main-content");
        if (!main) return;
        e.preventDefault();
        main.focus();
    });

    // Labels that stand in for hidden file inputs ("choose files") are buttons to the keyboard too:
    // Enter or Space opens the picker, as a click on the label does.
    document.addEventListener("keydown", e => {
        if (e.key !== "Enter" && e.key !== " ") return;
        const label = e.target.closest && e.target.closest("label[for][role=button]");
        const input = label && document.getElementById(label.htmlFor);
        if (!input || input.disabled) return;
        e.preventDefault();
        input.click();
    });

    return {
        // Focuses the first match, made focusable from script first as Blazor's FocusOnNavigate does,
        // without scrolling: the page has just been drawn from its top.
        focusFirst: selector => {
            const element = document.querySelector(selector);
            if (!element) return;
            if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
            element.focus({ preventScroll: true });
        },
        getDarkMode: () => {
            const stored = localStorage.getItem(themeKey);
            return stored === null ? null : stored === "true";
        },
        setDarkMode: value => localStorage.setItem(themeKey, value ? "true" : "false"),
        prefersDark: () => window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches,
    };
})();
