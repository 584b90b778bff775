// MathJax for the lessons' formulas ($...$ and $$...$$ in markdown cells only; code and
// outputs are left alone). MathJax itself is in assets/mathjax/ (from its npm package).
window.MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
  },
  options: {
    ignoreHtmlClass: 'md-content',
    processHtmlClass: 'jp-MarkdownOutput|arithmatex',
  },
};
