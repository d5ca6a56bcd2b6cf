// StyLua (the Lua formatter, built to WebAssembly and published on npm as @johnnymorganz/stylua)
// over the plugin's Lua: `node scripts/stylua.cjs --check` lists files that differ and exits 1;
// `--write` formats them. Settings live here (the wasm build reads no .stylua.toml).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const stylua = require('@johnnymorganz/stylua');

const ROOT = path.resolve(__dirname, '..');
const DIRS = ['lua', 'plugin', 'tests'];

function config() {
  const c = stylua.Config.new();
  c.column_width = 120;
  c.indent_type = stylua.IndentType.Spaces;
  c.indent_width = 2;
  c.quote_style = stylua.QuoteStyle.AutoPreferSingle;
  c.call_parentheses = stylua.CallParenType.Always;
  c.collapse_simple_statement = stylua.CollapseSimpleStatement.Never;
  c.line_endings = stylua.LineEndings.Unix;
  return c;
}

function luaFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? luaFiles(full) : e.name.endsWith('.lua') ? [full] : [];
  });
}

const write = process.argv.includes('--write');
const files = DIRS.flatMap((d) => luaFiles(path.join(ROOT, d))).concat(
  fs.readdirSync(ROOT).filter((f) => f.endsWith('.lua')).map((f) => path.join(ROOT, f)),
);
let differ = 0;
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const formatted = stylua.formatCode(text, config(), undefined, stylua.OutputVerification.None);
  if (formatted !== text) {
    differ += 1;
    if (write) {
      fs.writeFileSync(file, formatted);
    }
    console.log(`${write ? 'formatted' : 'would reformat'} ${path.relative(ROOT, file)}`);
  }
}
console.log(`stylua: ${files.length} files, ${differ} ${write ? 'formatted' : 'not formatted'}`);
process.exit(!write && differ > 0 ? 1 : 0);
