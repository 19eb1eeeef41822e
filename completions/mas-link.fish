# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mas_link_global_optspecs
    string join \n color= h/help V/version
end

function __fish_mas_link_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mas_link_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mas_link_using_subcommand
    set -l cmd (__fish_mas_link_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mas-link -n "__fish_mas_link_needs_command" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_needs_command" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_needs_command" -s V -l version -d 'Print version'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "secret" -d 'Print MAS\'s shared secret (matrix.secret, or matrix.secret_file\'s contents) and a newline'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "synapse" -d 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "mas" -d 'Point MAS\'s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse\'s OpenID Connect providers'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "sso" -d 'Print Synapse\'s side for MAS\'s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "migrate" -d 'Bring Synapse\'s users into MAS with MAS\'s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "check" -d 'Check both files the way Synapse and MAS read them, before anything restarts'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "unlink" -d 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "wizard" -d 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "completions" -d 'Print shell completions (or the man page) to standard output, or write them into a folder'
complete -c mas-link -n "__fish_mas_link_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mas-link -n "__fish_mas_link_using_subcommand secret" -l mas-config -d 'MAS\'s config.yaml; repeat for several files, merged as MAS merges them [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand secret" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand secret" -l bundle -d 'Print a pairing bundle instead: endpoint, homeserver and secret on one line, which `mas-link synapse --secret-stdin` reads'
complete -c mas-link -n "__fish_mas_link_using_subcommand secret" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l synapse-config -d 'Synapse\'s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse\'s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l synapse-python -d 'Synapse\'s Python, for Synapse\'s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link\'s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l synapse-version -d 'The Synapse release the file is for, where Synapse\'s Python is not at hand (a host editing a container\'s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse\'s loader\'s, else an install\'s package metadata]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l mas-config -d 'Take the secret (and the default endpoint) from MAS\'s config.yaml (repeat for several files)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l secret-file -d 'Read the secret from a file (trimmed)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l endpoint -d 'Where Synapse reaches MAS [env: MAS_ENDPOINT; default: MAS\'s http.public_base, or the endpoint already set]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l secret-path -d 'Write `secret_path: PATH` (absolute) instead of an inline secret (PATH made with the config\'s owner and group, 0640 when the config is group-readable, else 0600)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l format -d 'Output format; json (documented in README) needs --yes, --dry-run or --check' -r -f -a "human\t''
json\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l secret-stdin -d 'Read the secret (or a `mas-link secret --bundle` line) from standard input'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l users-migrated -d 'Synapse\'s existing users are in MAS already (`mas-cli syn2mas migrate` ran): link even though Synapse\'s database has users'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l new-server -d 'This server has never had users: link though its database cannot be read (where it can, it must hold no active user)'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l dry-run -d 'Show the diff and write nothing (exit 0)'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l check -d 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -s y -l yes -d 'Write without asking'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l show-secrets -d 'Show secrets in diffs instead of masking them'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l no-backup -d 'Do not keep a timestamped backup beside the file'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l in-place -d 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose\'s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -l json -d 'The same as --format json'
complete -c mas-link -n "__fish_mas_link_using_subcommand synapse" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l mas-config -d 'MAS\'s config.yaml; repeat for several files, merged as MAS merges them (the `matrix` keys are written where MAS reads them) [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l homeserver -d 'Synapse\'s server_name [env: MATRIX_HOMESERVER_DOMAIN; default: --synapse-config\'s]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l synapse-config -d 'Synapse\'s homeserver.yaml, when both files are on this host (repeatable, as Synapse\'s -c): its server name, URL and OpenID Connect providers' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l synapse-endpoint -d 'Where MAS reaches Synapse [default: the endpoint already set, the Synapse file\'s public_baseurl, or https://NAME/]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l mas-cli -d 'MAS\'s `mas-cli`, for MAS\'s own `config check`, or `none` for mas-link\'s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l kind -d 'matrix.kind [default: synapse; an existing valid kind is kept]' -r -f -a "synapse\t''
synapse_modern\t''
synapse_read_only\t''
synapse_legacy\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l format -d 'Output format; json (documented in README) needs --yes, --dry-run or --check' -r -f -a "human\t''
json\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l sso-stdin -d 'Synapse\'s side from a `mas-link sso` line on standard input (Synapse in another container): its server name, URL and OpenID Connect providers'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l renumber-password-scheme -d 'MAS has no users of its own yet (syn2mas needs its database empty): its own password scheme may move from version 1 to the next, so that version 1 checks Synapse\'s migrated passwords (bcrypt with Synapse\'s pepper)'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l dry-run -d 'Show the diff and write nothing (exit 0)'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l check -d 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -s y -l yes -d 'Write without asking'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l show-secrets -d 'Show secrets in diffs instead of masking them'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l no-backup -d 'Do not keep a timestamped backup beside the file'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l in-place -d 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose\'s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -l json -d 'The same as --format json'
complete -c mas-link -n "__fish_mas_link_using_subcommand mas" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand sso" -l synapse-config -d 'Synapse\'s homeserver.yaml; repeat for several files or name a folder, as Synapse\'s -c' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand sso" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand sso" -l migration -d 'Add what MAS\'s migration tool reads of Synapse\'s configuration (its database credentials among it): pipe it into `mas-link migrate --sso-stdin` in MAS\'s app'
complete -c mas-link -n "__fish_mas_link_using_subcommand sso" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l mas-config -d 'MAS\'s config.yaml; repeat for several files [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l synapse-config -d 'Synapse\'s homeserver.yaml, when both are on this host (repeatable, as Synapse\'s -c)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l mas-cli -d 'MAS\'s `mas-cli` [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l timeout-minutes -d 'Stop a migration still running after this many minutes' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l sso-stdin -d 'Synapse\'s side from a `mas-link sso --migration` line on standard input (Synapse in another container): what MAS\'s migration tool reads of homeserver.yaml'
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -s y -l yes -d 'Migrate after the check (Synapse must be stopped); without it, the check only'
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -l accept-warnings -d 'Go on past the warnings of `syn2mas check`, once read'
complete -c mas-link -n "__fish_mas_link_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l synapse-config -d 'Synapse\'s homeserver.yaml; repeat for several files or name a folder, as Synapse\'s -c [default: /app/data/configs/homeserver.yaml, when it exists]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l mas-config -d 'MAS\'s config.yaml; repeat for several files [env: MAS_CONFIG; default: /app/data/config.yaml, when it exists]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l synapse-python -d 'Synapse\'s Python, for Synapse\'s own config loader, or `none` for mas-link\'s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l synapse-version -d 'The Synapse release the verdict is for, where Synapse\'s Python is not at hand [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse\'s loader\'s, else an install\'s package metadata]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l mas-cli -d 'MAS\'s `mas-cli`, for MAS\'s own `config check`, or `none` for mas-link\'s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l format -d 'Output format; json is documented in README (format_version 1)' -r -f -a "human\t''
json\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l synapse-url -d 'Where to reach Synapse [default: its public_baseurl, or https://SERVER_NAME/]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l mas-url -d 'Where to reach MAS [default: Synapse\'s matrix_authentication_service.endpoint]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l mas-bundle-stdin -d 'MAS\'s side from a `mas-link secret --bundle` line on standard input (MAS in another container): the secret, homeserver and URL are checked against Synapse\'s file'
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l json -d 'The same as --format json'
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l online -d 'Also probe the running services: Synapse, MAS, the shared secret, QR-code login'
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -l insecure -d 'Accept any TLS certificate (only for testing)'
complete -c mas-link -n "__fish_mas_link_using_subcommand check" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l synapse-config -d 'Synapse\'s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse\'s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l synapse-python -d 'Synapse\'s Python, for Synapse\'s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link\'s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l synapse-version -d 'The Synapse release the file is for, where Synapse\'s Python is not at hand (a host editing a container\'s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse\'s loader\'s, else an install\'s package metadata]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l format -d 'Output format; json (documented in README) needs --yes, --dry-run or --check' -r -f -a "human\t''
json\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l dry-run -d 'Show the diff and write nothing (exit 0)'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l check -d 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -s y -l yes -d 'Write without asking'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l show-secrets -d 'Show secrets in diffs instead of masking them'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l no-backup -d 'Do not keep a timestamped backup beside the file'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l in-place -d 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose\'s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -l json -d 'The same as --format json'
complete -c mas-link -n "__fish_mas_link_using_subcommand unlink" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l synapse-config -d 'Synapse\'s homeserver.yaml; repeat for several files or name a folder, as Synapse\'s -c [default: /app/data/configs/homeserver.yaml, when it exists]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l mas-config -d 'MAS\'s config.yaml; repeat for several files [default: /app/data/config.yaml, when it exists]' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l endpoint -d 'MAS\'s URL, where Synapse reaches it [env: MAS_ENDPOINT]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l homeserver -d 'Synapse\'s server_name [env: MATRIX_HOMESERVER_DOMAIN]' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l synapse-endpoint -d 'Where MAS reaches Synapse' -r
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l secret-file -d 'A file holding MAS\'s secret (else env MAS_SECRET, else asked, hidden)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand wizard" -s h -l help -d 'Print help'
complete -c mas-link -n "__fish_mas_link_using_subcommand completions" -l dir -d 'Write into this folder instead: the shell\'s file, or for `man` every page (mas-link.1 and one per subcommand)' -r -F
complete -c mas-link -n "__fish_mas_link_using_subcommand completions" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mas-link -n "__fish_mas_link_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "secret" -d 'Print MAS\'s shared secret (matrix.secret, or matrix.secret_file\'s contents) and a newline'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "synapse" -d 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "mas" -d 'Point MAS\'s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse\'s OpenID Connect providers'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "sso" -d 'Print Synapse\'s side for MAS\'s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "migrate" -d 'Bring Synapse\'s users into MAS with MAS\'s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "check" -d 'Check both files the way Synapse and MAS read them, before anything restarts'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "unlink" -d 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "wizard" -d 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "completions" -d 'Print shell completions (or the man page) to standard output, or write them into a folder'
complete -c mas-link -n "__fish_mas_link_using_subcommand help; and not __fish_seen_subcommand_from secret synapse mas sso migrate check unlink wizard completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mas-link -n "__fish_mas_link_using_subcommand completions" -f -a "bash zsh fish elvish powershell man"
