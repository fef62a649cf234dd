// Browser-side helpers for the whole HappySad dashboard: the remembered colour scheme. Code for one
// component lives next to it as a module (Component.razor.js).
window.happySad = (() => {
    const themeKey = "happysad.darkMode";

    return {
        getDarkMode: () => {
            const stored = localStorage.getItem(themeKey);
            return stored === null ? null : stored === "true";
        },
        setDarkMode: value => localStorage.setItem(themeKey, value ? "true" : "false"),
        prefersDark: () => window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches,
    };
})();
