// MathJax settings for pymdownx.arithmatex in generic mode: it wraps math in \( \) and \[ \].
// MathJax itself is loaded from the site (javascripts/mathjax/, copied by docs/mathjax_files.py).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    // arithmatex's math, and the navigation's link text (md-ellipsis), where a heading's
    // math arrives as a bare \( \)
    processHtmlClass: "arithmatex|md-nav__link|md-ellipsis"
  }
};

document$.subscribe(() => {
  MathJax.typesetPromise();
});
