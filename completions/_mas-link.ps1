
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mas-link' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mas-link'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mas-link' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('secret', 'secret', [CompletionResultType]::ParameterValue, 'Print MAS''s shared secret (matrix.secret, or matrix.secret_file''s contents) and a newline')
            [CompletionResult]::new('synapse', 'synapse', [CompletionResultType]::ParameterValue, 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first')
            [CompletionResult]::new('mas', 'mas', [CompletionResultType]::ParameterValue, 'Point MAS''s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse''s OpenID Connect providers')
            [CompletionResult]::new('sso', 'sso', [CompletionResultType]::ParameterValue, 'Print Synapse''s side for MAS''s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Bring Synapse''s users into MAS with MAS''s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check both files the way Synapse and MAS read them, before anything restarts')
            [CompletionResult]::new('unlink', 'unlink', [CompletionResultType]::ParameterValue, 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back')
            [CompletionResult]::new('wizard', 'wizard', [CompletionResultType]::ParameterValue, 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (or the man page) to standard output, or write them into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mas-link;secret' {
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'MAS''s config.yaml; repeat for several files, merged as MAS merges them [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Print a pairing bundle instead: endpoint, homeserver and secret on one line, which `mas-link synapse --secret-stdin` reads')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;synapse' {
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse''s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from')
            [CompletionResult]::new('--synapse-python', '--synapse-python', [CompletionResultType]::ParameterName, 'Synapse''s Python, for Synapse''s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]')
            [CompletionResult]::new('--synapse-version', '--synapse-version', [CompletionResultType]::ParameterName, 'The Synapse release the file is for, where Synapse''s Python is not at hand (a host editing a container''s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]')
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'Take the secret (and the default endpoint) from MAS''s config.yaml (repeat for several files)')
            [CompletionResult]::new('--secret-file', '--secret-file', [CompletionResultType]::ParameterName, 'Read the secret from a file (trimmed)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Where Synapse reaches MAS [env: MAS_ENDPOINT; default: MAS''s http.public_base, or the endpoint already set]')
            [CompletionResult]::new('--secret-path', '--secret-path', [CompletionResultType]::ParameterName, 'Write `secret_path: PATH` (absolute) instead of an inline secret (PATH made with the config''s owner and group, 0640 when the config is group-readable, else 0600)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json (documented in README) needs --yes, --dry-run or --check')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read the secret (or a `mas-link secret --bundle` line) from standard input')
            [CompletionResult]::new('--users-migrated', '--users-migrated', [CompletionResultType]::ParameterName, 'Synapse''s existing users are in MAS already (`mas-cli syn2mas migrate` ran): link even though Synapse''s database has users')
            [CompletionResult]::new('--new-server', '--new-server', [CompletionResultType]::ParameterName, 'This server has never had users: link though its database cannot be read (where it can, it must hold no active user)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the diff and write nothing (exit 0)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing; exit 0 when nothing needs to change, 1 when something does')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show secrets in diffs instead of masking them')
            [CompletionResult]::new('--no-backup', '--no-backup', [CompletionResultType]::ParameterName, 'Do not keep a timestamped backup beside the file')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;mas' {
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'MAS''s config.yaml; repeat for several files, merged as MAS merges them (the `matrix` keys are written where MAS reads them) [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]')
            [CompletionResult]::new('--homeserver', '--homeserver', [CompletionResultType]::ParameterName, 'Synapse''s server_name [env: MATRIX_HOMESERVER_DOMAIN; default: --synapse-config''s]')
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml, when both files are on this host (repeatable, as Synapse''s -c): its server name, URL and OpenID Connect providers')
            [CompletionResult]::new('--synapse-endpoint', '--synapse-endpoint', [CompletionResultType]::ParameterName, 'Where MAS reaches Synapse [default: the endpoint already set, the Synapse file''s public_baseurl, or https://NAME/]')
            [CompletionResult]::new('--mas-cli', '--mas-cli', [CompletionResultType]::ParameterName, 'MAS''s `mas-cli`, for MAS''s own `config check`, or `none` for mas-link''s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'matrix.kind [default: synapse; an existing valid kind is kept]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json (documented in README) needs --yes, --dry-run or --check')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--sso-stdin', '--sso-stdin', [CompletionResultType]::ParameterName, 'Synapse''s side from a `mas-link sso` line on standard input (Synapse in another container): its server name, URL and OpenID Connect providers')
            [CompletionResult]::new('--renumber-password-scheme', '--renumber-password-scheme', [CompletionResultType]::ParameterName, 'MAS has no users of its own yet (syn2mas needs its database empty): its own password scheme may move from version 1 to the next, so that version 1 checks Synapse''s migrated passwords (bcrypt with Synapse''s pepper)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the diff and write nothing (exit 0)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing; exit 0 when nothing needs to change, 1 when something does')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show secrets in diffs instead of masking them')
            [CompletionResult]::new('--no-backup', '--no-backup', [CompletionResultType]::ParameterName, 'Do not keep a timestamped backup beside the file')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;sso' {
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--migration', '--migration', [CompletionResultType]::ParameterName, 'Add what MAS''s migration tool reads of Synapse''s configuration (its database credentials among it): pipe it into `mas-link migrate --sso-stdin` in MAS''s app')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;migrate' {
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'MAS''s config.yaml; repeat for several files [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]')
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml, when both are on this host (repeatable, as Synapse''s -c)')
            [CompletionResult]::new('--mas-cli', '--mas-cli', [CompletionResultType]::ParameterName, 'MAS''s `mas-cli` [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]')
            [CompletionResult]::new('--timeout-minutes', '--timeout-minutes', [CompletionResultType]::ParameterName, 'Stop a migration still running after this many minutes')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--sso-stdin', '--sso-stdin', [CompletionResultType]::ParameterName, 'Synapse''s side from a `mas-link sso --migration` line on standard input (Synapse in another container): what MAS''s migration tool reads of homeserver.yaml')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Migrate after the check (Synapse must be stopped); without it, the check only')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Migrate after the check (Synapse must be stopped); without it, the check only')
            [CompletionResult]::new('--accept-warnings', '--accept-warnings', [CompletionResultType]::ParameterName, 'Go on past the warnings of `syn2mas check`, once read')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;check' {
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c [default: /app/data/configs/homeserver.yaml, when it exists]')
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'MAS''s config.yaml; repeat for several files [env: MAS_CONFIG; default: /app/data/config.yaml, when it exists]')
            [CompletionResult]::new('--synapse-python', '--synapse-python', [CompletionResultType]::ParameterName, 'Synapse''s Python, for Synapse''s own config loader, or `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]')
            [CompletionResult]::new('--synapse-version', '--synapse-version', [CompletionResultType]::ParameterName, 'The Synapse release the verdict is for, where Synapse''s Python is not at hand [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]')
            [CompletionResult]::new('--mas-cli', '--mas-cli', [CompletionResultType]::ParameterName, 'MAS''s `mas-cli`, for MAS''s own `config check`, or `none` for mas-link''s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json is documented in README (format_version 1)')
            [CompletionResult]::new('--synapse-url', '--synapse-url', [CompletionResultType]::ParameterName, 'Where to reach Synapse [default: its public_baseurl, or https://SERVER_NAME/]')
            [CompletionResult]::new('--mas-url', '--mas-url', [CompletionResultType]::ParameterName, 'Where to reach MAS [default: Synapse''s matrix_authentication_service.endpoint]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--mas-bundle-stdin', '--mas-bundle-stdin', [CompletionResultType]::ParameterName, 'MAS''s side from a `mas-link secret --bundle` line on standard input (MAS in another container): the secret, homeserver and URL are checked against Synapse''s file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The same as --format json')
            [CompletionResult]::new('--online', '--online', [CompletionResultType]::ParameterName, 'Also probe the running services: Synapse, MAS, the shared secret, QR-code login')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate (only for testing)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;unlink' {
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse''s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from')
            [CompletionResult]::new('--synapse-python', '--synapse-python', [CompletionResultType]::ParameterName, 'Synapse''s Python, for Synapse''s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]')
            [CompletionResult]::new('--synapse-version', '--synapse-version', [CompletionResultType]::ParameterName, 'The Synapse release the file is for, where Synapse''s Python is not at hand (a host editing a container''s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json (documented in README) needs --yes, --dry-run or --check')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the diff and write nothing (exit 0)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing; exit 0 when nothing needs to change, 1 when something does')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show secrets in diffs instead of masking them')
            [CompletionResult]::new('--no-backup', '--no-backup', [CompletionResultType]::ParameterName, 'Do not keep a timestamped backup beside the file')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;wizard' {
            [CompletionResult]::new('--synapse-config', '--synapse-config', [CompletionResultType]::ParameterName, 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c [default: /app/data/configs/homeserver.yaml, when it exists]')
            [CompletionResult]::new('--mas-config', '--mas-config', [CompletionResultType]::ParameterName, 'MAS''s config.yaml; repeat for several files [default: /app/data/config.yaml, when it exists]')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'MAS''s URL, where Synapse reaches it [env: MAS_ENDPOINT]')
            [CompletionResult]::new('--homeserver', '--homeserver', [CompletionResultType]::ParameterName, 'Synapse''s server_name [env: MATRIX_HOMESERVER_DOMAIN]')
            [CompletionResult]::new('--synapse-endpoint', '--synapse-endpoint', [CompletionResultType]::ParameterName, 'Where MAS reaches Synapse')
            [CompletionResult]::new('--secret-file', '--secret-file', [CompletionResultType]::ParameterName, 'A file holding MAS''s secret (else env MAS_SECRET, else asked, hidden)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mas-link;completions' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write into this folder instead: the shell''s file, or for `man` every page (mas-link.1 and one per subcommand)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mas-link;help' {
            [CompletionResult]::new('secret', 'secret', [CompletionResultType]::ParameterValue, 'Print MAS''s shared secret (matrix.secret, or matrix.secret_file''s contents) and a newline')
            [CompletionResult]::new('synapse', 'synapse', [CompletionResultType]::ParameterValue, 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first')
            [CompletionResult]::new('mas', 'mas', [CompletionResultType]::ParameterValue, 'Point MAS''s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse''s OpenID Connect providers')
            [CompletionResult]::new('sso', 'sso', [CompletionResultType]::ParameterValue, 'Print Synapse''s side for MAS''s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Bring Synapse''s users into MAS with MAS''s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check both files the way Synapse and MAS read them, before anything restarts')
            [CompletionResult]::new('unlink', 'unlink', [CompletionResultType]::ParameterValue, 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back')
            [CompletionResult]::new('wizard', 'wizard', [CompletionResultType]::ParameterValue, 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (or the man page) to standard output, or write them into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mas-link;help;secret' {
            break
        }
        'mas-link;help;synapse' {
            break
        }
        'mas-link;help;mas' {
            break
        }
        'mas-link;help;sso' {
            break
        }
        'mas-link;help;migrate' {
            break
        }
        'mas-link;help;check' {
            break
        }
        'mas-link;help;unlink' {
            break
        }
        'mas-link;help;wizard' {
            break
        }
        'mas-link;help;completions' {
            break
        }
        'mas-link;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
