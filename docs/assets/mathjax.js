// MathJax for the lessons' formulas ($...$ and $$...$$ in markdown cells only; code and
// outputs are left alone). MathJax itself comes from a CDN; offline, formulas stay as TeX.
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
