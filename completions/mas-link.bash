_mas__link() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="mas__link"
                ;;
            mas__link,check)
                cmd="mas__link__subcmd__check"
                ;;
            mas__link,completions)
                cmd="mas__link__subcmd__completions"
                ;;
            mas__link,help)
                cmd="mas__link__subcmd__help"
                ;;
            mas__link,mas)
                cmd="mas__link__subcmd__mas"
                ;;
            mas__link,migrate)
                cmd="mas__link__subcmd__migrate"
                ;;
            mas__link,secret)
                cmd="mas__link__subcmd__secret"
                ;;
            mas__link,sso)
                cmd="mas__link__subcmd__sso"
                ;;
            mas__link,synapse)
                cmd="mas__link__subcmd__synapse"
                ;;
            mas__link,unlink)
                cmd="mas__link__subcmd__unlink"
                ;;
            mas__link,wizard)
                cmd="mas__link__subcmd__wizard"
                ;;
            mas__link__subcmd__help,check)
                cmd="mas__link__subcmd__help__subcmd__check"
                ;;
            mas__link__subcmd__help,completions)
                cmd="mas__link__subcmd__help__subcmd__completions"
                ;;
            mas__link__subcmd__help,help)
                cmd="mas__link__subcmd__help__subcmd__help"
                ;;
            mas__link__subcmd__help,mas)
                cmd="mas__link__subcmd__help__subcmd__mas"
                ;;
            mas__link__subcmd__help,migrate)
                cmd="mas__link__subcmd__help__subcmd__migrate"
                ;;
            mas__link__subcmd__help,secret)
                cmd="mas__link__subcmd__help__subcmd__secret"
                ;;
            mas__link__subcmd__help,sso)
                cmd="mas__link__subcmd__help__subcmd__sso"
                ;;
            mas__link__subcmd__help,synapse)
                cmd="mas__link__subcmd__help__subcmd__synapse"
                ;;
            mas__link__subcmd__help,unlink)
                cmd="mas__link__subcmd__help__subcmd__unlink"
                ;;
            mas__link__subcmd__help,wizard)
                cmd="mas__link__subcmd__help__subcmd__wizard"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        mas__link)
            opts="-h -V --color --help --version secret synapse mas sso migrate check unlink wizard completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__check)
            opts="-h --synapse-config --mas-config --synapse-python --synapse-version --mas-cli --mas-bundle-stdin --format --json --online --synapse-url --mas-url --insecure --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-python)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-cli)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --synapse-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__completions)
            opts="-h --dir --color --help bash zsh fish elvish powershell man"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help)
            opts="secret synapse mas sso migrate check unlink wizard completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__mas)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__migrate)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__secret)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__sso)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__synapse)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__unlink)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__help__subcmd__wizard)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__mas)
            opts="-y -h --mas-config --homeserver --synapse-config --sso-stdin --synapse-endpoint --renumber-password-scheme --mas-cli --kind --dry-run --check --yes --show-secrets --no-backup --in-place --format --json --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-cli)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kind)
                    COMPREPLY=($(compgen -W "synapse synapse_modern synapse_read_only synapse_legacy" -- "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__migrate)
            opts="-y -h --mas-config --synapse-config --sso-stdin --mas-cli --yes --accept-warnings --timeout-minutes --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-cli)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout-minutes)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__secret)
            opts="-h --mas-config --bundle --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__sso)
            opts="-h --synapse-config --migration --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__synapse)
            opts="-y -h --synapse-config --synapse-python --synapse-version --mas-config --secret-file --secret-stdin --endpoint --secret-path --users-migrated --new-server --dry-run --check --yes --show-secrets --no-backup --in-place --format --json --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-python)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__unlink)
            opts="-y -h --synapse-config --synapse-python --synapse-version --dry-run --check --yes --show-secrets --no-backup --in-place --format --json --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-python)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        mas__link__subcmd__wizard)
            opts="-h --synapse-config --mas-config --endpoint --homeserver --synapse-endpoint --secret-file --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --synapse-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mas-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --homeserver)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --synapse-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _mas__link -o nosort -o bashdefault -o default mas-link
else
    complete -F _mas__link -o bashdefault -o default mas-link
fi
