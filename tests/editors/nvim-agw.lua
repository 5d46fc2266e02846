-- Drives a real Neovim (0.7 or newer, headless) against `agw lsp`: opens $AGW_FILE, waits for
-- agw's diagnostics, applies the "allow" code action of the first placeholder finding and waits
-- for that diagnostic to go, then applies the fix of the missing `audiences` and waits for that
-- finding to go. Writes what it saw to $AGW_NVIM_OUT, one fact a line.
local out = assert(io.open(os.getenv('AGW_NVIM_OUT'), 'w'))
local function log(s) out:write(s .. '\n'); out:flush() end
local function code(d) return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) end

vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('AGW_FILE')))
local bufnr = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = 'agw',
  cmd = { os.getenv('AGW_BIN'), 'lsp' },
  root_dir = vim.fn.getcwd(),
  init_options = { processEnv = false },
})
vim.lsp.buf_attach_client(bufnr, id)
if not vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
  log('timeout waiting for diagnostics')
  vim.cmd('qa!')
end
local diags = vim.diagnostic.get(bufnr)
for _, d in ipairs(diags) do log('diag ' .. d.lnum .. ':' .. d.col .. ' ' .. tostring(code(d))) end

local target
for _, d in ipairs(diags) do
  if code(d) == 'placeholder/value' then target = d; break end
end
local client = vim.lsp.get_client_by_id(id)
-- applies the first code action for `d` whose title holds `want`
local function apply_action(d, want)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = d.lnum, character = d.col },
              ['end'] = { line = d.end_lnum, character = d.end_col } },
    context = { diagnostics = { d.user_data.lsp } },
  }
  local resp = client.request_sync('textDocument/codeAction', params, 10000, bufnr)
  for _, a in ipairs(resp and resp.result or {}) do
    if a.title:find(want, 1, true) then
      log('action ' .. a.title)
      vim.lsp.util.apply_workspace_edit(a.edit, 'utf-16')
      return
    end
  end
  log('no action with ' .. want)
end
apply_action(target, 'placeholder/value')
local before = #diags
local gone = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) == before - 1 end, 50)
log('after ' .. #vim.diagnostic.get(bufnr) .. (gone and '' or ' (timeout)'))
log('line ' .. vim.api.nvim_buf_get_lines(bufnr, target.lnum, target.lnum + 1, false)[1])

local function find(rule)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if code(d) == rule then return d end
  end
end
local audiences = find('auth/audiences-missing')
if audiences then
  apply_action(audiences, 'Fix')
  local fixed = vim.wait(20000, function() return find('auth/audiences-missing') == nil end, 50)
  log('audiences ' .. (fixed and 'fixed' or 'still there (timeout)'))
  for _, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:find('audiences:', 1, true) then log('line ' .. l) end
  end
else
  log('no auth/audiences-missing finding')
end
vim.lsp.stop_client(id)
vim.cmd('qa!')
