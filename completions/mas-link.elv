
use builtin;
use str;

set edit:completion:arg-completer[mas-link] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mas-link'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mas-link'= {
            cand --color 'When to colour output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand secret 'Print MAS''s shared secret (matrix.secret, or matrix.secret_file''s contents) and a newline'
            cand synapse 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first'
            cand mas 'Point MAS''s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse''s OpenID Connect providers'
            cand sso 'Print Synapse''s side for MAS''s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)'
            cand migrate 'Bring Synapse''s users into MAS with MAS''s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link'
            cand check 'Check both files the way Synapse and MAS read them, before anything restarts'
            cand unlink 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back'
            cand wizard 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff'
            cand completions 'Print shell completions (or the man page) to standard output, or write them into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mas-link;secret'= {
            cand --mas-config 'MAS''s config.yaml; repeat for several files, merged as MAS merges them [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]'
            cand --color 'When to colour output'
            cand --bundle 'Print a pairing bundle instead: endpoint, homeserver and secret on one line, which `mas-link synapse --secret-stdin` reads'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;synapse'= {
            cand --synapse-config 'Synapse''s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse''s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from'
            cand --synapse-python 'Synapse''s Python, for Synapse''s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]'
            cand --synapse-version 'The Synapse release the file is for, where Synapse''s Python is not at hand (a host editing a container''s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]'
            cand --mas-config 'Take the secret (and the default endpoint) from MAS''s config.yaml (repeat for several files)'
            cand --secret-file 'Read the secret from a file (trimmed)'
            cand --endpoint 'Where Synapse reaches MAS [env: MAS_ENDPOINT; default: MAS''s http.public_base, or the endpoint already set]'
            cand --secret-path 'Write `secret_path: PATH` (absolute) instead of an inline secret (PATH made with the config''s owner and group, 0640 when the config is group-readable, else 0600)'
            cand --format 'Output format; json (documented in README) needs --yes, --dry-run or --check'
            cand --color 'When to colour output'
            cand --secret-stdin 'Read the secret (or a `mas-link secret --bundle` line) from standard input'
            cand --users-migrated 'Synapse''s existing users are in MAS already (`mas-cli syn2mas migrate` ran): link even though Synapse''s database has users'
            cand --new-server 'This server has never had users: link though its database cannot be read (where it can, it must hold no active user)'
            cand --dry-run 'Show the diff and write nothing (exit 0)'
            cand --check 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
            cand -y 'Write without asking'
            cand --yes 'Write without asking'
            cand --show-secrets 'Show secrets in diffs instead of masking them'
            cand --no-backup 'Do not keep a timestamped backup beside the file'
            cand --in-place 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
            cand --json 'The same as --format json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;mas'= {
            cand --mas-config 'MAS''s config.yaml; repeat for several files, merged as MAS merges them (the `matrix` keys are written where MAS reads them) [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]'
            cand --homeserver 'Synapse''s server_name [env: MATRIX_HOMESERVER_DOMAIN; default: --synapse-config''s]'
            cand --synapse-config 'Synapse''s homeserver.yaml, when both files are on this host (repeatable, as Synapse''s -c): its server name, URL and OpenID Connect providers'
            cand --synapse-endpoint 'Where MAS reaches Synapse [default: the endpoint already set, the Synapse file''s public_baseurl, or https://NAME/]'
            cand --mas-cli 'MAS''s `mas-cli`, for MAS''s own `config check`, or `none` for mas-link''s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]'
            cand --kind 'matrix.kind [default: synapse; an existing valid kind is kept]'
            cand --format 'Output format; json (documented in README) needs --yes, --dry-run or --check'
            cand --color 'When to colour output'
            cand --sso-stdin 'Synapse''s side from a `mas-link sso` line on standard input (Synapse in another container): its server name, URL and OpenID Connect providers'
            cand --renumber-password-scheme 'MAS has no users of its own yet (syn2mas needs its database empty): its own password scheme may move from version 1 to the next, so that version 1 checks Synapse''s migrated passwords (bcrypt with Synapse''s pepper)'
            cand --dry-run 'Show the diff and write nothing (exit 0)'
            cand --check 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
            cand -y 'Write without asking'
            cand --yes 'Write without asking'
            cand --show-secrets 'Show secrets in diffs instead of masking them'
            cand --no-backup 'Do not keep a timestamped backup beside the file'
            cand --in-place 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
            cand --json 'The same as --format json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;sso'= {
            cand --synapse-config 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c'
            cand --color 'When to colour output'
            cand --migration 'Add what MAS''s migration tool reads of Synapse''s configuration (its database credentials among it): pipe it into `mas-link migrate --sso-stdin` in MAS''s app'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;migrate'= {
            cand --mas-config 'MAS''s config.yaml; repeat for several files [env: MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml]'
            cand --synapse-config 'Synapse''s homeserver.yaml, when both are on this host (repeatable, as Synapse''s -c)'
            cand --mas-cli 'MAS''s `mas-cli` [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]'
            cand --timeout-minutes 'Stop a migration still running after this many minutes'
            cand --color 'When to colour output'
            cand --sso-stdin 'Synapse''s side from a `mas-link sso --migration` line on standard input (Synapse in another container): what MAS''s migration tool reads of homeserver.yaml'
            cand -y 'Migrate after the check (Synapse must be stopped); without it, the check only'
            cand --yes 'Migrate after the check (Synapse must be stopped); without it, the check only'
            cand --accept-warnings 'Go on past the warnings of `syn2mas check`, once read'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;check'= {
            cand --synapse-config 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c [default: /app/data/configs/homeserver.yaml, when it exists]'
            cand --mas-config 'MAS''s config.yaml; repeat for several files [env: MAS_CONFIG; default: /app/data/config.yaml, when it exists]'
            cand --synapse-python 'Synapse''s Python, for Synapse''s own config loader, or `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]'
            cand --synapse-version 'The Synapse release the verdict is for, where Synapse''s Python is not at hand [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]'
            cand --mas-cli 'MAS''s `mas-cli`, for MAS''s own `config check`, or `none` for mas-link''s own rules only [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli, /app/code/mas-cli]'
            cand --format 'Output format; json is documented in README (format_version 1)'
            cand --synapse-url 'Where to reach Synapse [default: its public_baseurl, or https://SERVER_NAME/]'
            cand --mas-url 'Where to reach MAS [default: Synapse''s matrix_authentication_service.endpoint]'
            cand --color 'When to colour output'
            cand --mas-bundle-stdin 'MAS''s side from a `mas-link secret --bundle` line on standard input (MAS in another container): the secret, homeserver and URL are checked against Synapse''s file'
            cand --json 'The same as --format json'
            cand --online 'Also probe the running services: Synapse, MAS, the shared secret, QR-code login'
            cand --insecure 'Accept any TLS certificate (only for testing)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;unlink'= {
            cand --synapse-config 'Synapse''s homeserver.yaml; repeat for several files or name a folder (its *.yaml files, sorted), as Synapse''s -c. A conf.d/ beside homeserver.yaml (Debian) is read after it. Each setting is written in the file Synapse takes it from'
            cand --synapse-python 'Synapse''s Python, for Synapse''s own config loader, which then judges the planned configuration before anything is written; `none` for mas-link''s own rules only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports synapse]'
            cand --synapse-version 'The Synapse release the file is for, where Synapse''s Python is not at hand (a host editing a container''s files): 1.136.x is linked without QR-code login, older ones are refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse''s loader''s, else an install''s package metadata]'
            cand --format 'Output format; json (documented in README) needs --yes, --dry-run or --check'
            cand --color 'When to colour output'
            cand --dry-run 'Show the diff and write nothing (exit 0)'
            cand --check 'Write nothing; exit 0 when nothing needs to change, 1 when something does'
            cand -y 'Write without asking'
            cand --yes 'Write without asking'
            cand --show-secrets 'Show secrets in diffs instead of masking them'
            cand --no-backup 'Do not keep a timestamped backup beside the file'
            cand --in-place 'Write into the file itself instead of replacing it: for a file bind-mounted alone into a container (Docker Compose''s `./homeserver.yaml:/data/homeserver.yaml`), run on the host. Not atomic; the backup is written first'
            cand --json 'The same as --format json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;wizard'= {
            cand --synapse-config 'Synapse''s homeserver.yaml; repeat for several files or name a folder, as Synapse''s -c [default: /app/data/configs/homeserver.yaml, when it exists]'
            cand --mas-config 'MAS''s config.yaml; repeat for several files [default: /app/data/config.yaml, when it exists]'
            cand --endpoint 'MAS''s URL, where Synapse reaches it [env: MAS_ENDPOINT]'
            cand --homeserver 'Synapse''s server_name [env: MATRIX_HOMESERVER_DOMAIN]'
            cand --synapse-endpoint 'Where MAS reaches Synapse'
            cand --secret-file 'A file holding MAS''s secret (else env MAS_SECRET, else asked, hidden)'
            cand --color 'When to colour output'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mas-link;completions'= {
            cand --dir 'Write into this folder instead: the shell''s file, or for `man` every page (mas-link.1 and one per subcommand)'
            cand --color 'When to colour output'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mas-link;help'= {
            cand secret 'Print MAS''s shared secret (matrix.secret, or matrix.secret_file''s contents) and a newline'
            cand synapse 'Link Synapse to MAS: edit homeserver.yaml, showing the diff first'
            cand mas 'Point MAS''s `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none), and take over Synapse''s OpenID Connect providers'
            cand sso 'Print Synapse''s side for MAS''s as one line: server name, URL and OpenID Connect providers (client secrets included: pipe it into `mas-link mas --sso-stdin`)'
            cand migrate 'Bring Synapse''s users into MAS with MAS''s own tool (syn2mas check, then migrate with --yes) where MAS runs, then verify that MAS holds every one and every SSO link'
            cand check 'Check both files the way Synapse and MAS read them, before anything restarts'
            cand unlink 'Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back'
            cand wizard 'Guided set-up: finds the files here, asks only what it cannot find, shows the diff'
            cand completions 'Print shell completions (or the man page) to standard output, or write them into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mas-link;help;secret'= {
        }
        &'mas-link;help;synapse'= {
        }
        &'mas-link;help;mas'= {
        }
        &'mas-link;help;sso'= {
        }
        &'mas-link;help;migrate'= {
        }
        &'mas-link;help;check'= {
        }
        &'mas-link;help;unlink'= {
        }
        &'mas-link;help;wizard'= {
        }
        &'mas-link;help;completions'= {
        }
        &'mas-link;help;help'= {
        }
    ]
    $completions[$command]
}
