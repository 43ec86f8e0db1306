# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_gitops_global_optspecs
    string join \n C= color= h/help V/version
end

function __fish_gitops_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_gitops_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_gitops_using_subcommand
    set -l cmd (__fish_gitops_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c gitops -n "__fish_gitops_needs_command" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_needs_command" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_needs_command" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_needs_command" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "quickstart" -d 'Create a sample repository to try gitops on (offline)'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "init" -d 'Set up an existing repository: `.gitops.yaml` and the environment branches'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "feature" -d 'Work on feature branches cut from the first environment'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "image" -d 'Work with the image tags an environment runs'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "promote" -d 'Promote into ENV: build the promotion branch and open its pull request'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "status" -d 'Show what each environment runs, what is waiting and what drifted'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "diff" -d 'Show what promoting ENV would change'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "check" -d 'Check that every configuration repository follows the branch strategy'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c gitops -n "__fish_gitops_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand quickstart" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand quickstart" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand quickstart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand quickstart" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand init" -l environments -d 'The environments, in promotion order' -r
complete -c gitops -n "__fish_gitops_using_subcommand init" -l branch -d 'An environment\'s branch, when not its name (repeatable)' -r
complete -c gitops -n "__fish_gitops_using_subcommand init" -l tags -d 'An environment\'s tag policy: commit-sha, semver-rc, semver, any, regex:<p> (repeatable)' -r
complete -c gitops -n "__fish_gitops_using_subcommand init" -l promotion -d 'An environment\'s promotion mode: auto-merge or pull-request (repeatable)' -r
complete -c gitops -n "__fish_gitops_using_subcommand init" -l images -d 'The team\'s images, as name patterns (registry.example.com/shop/*); the default is proposed from the images the default branch runs. An empty value writes no `images:` (every image is then the team\'s)' -r
complete -c gitops -n "__fish_gitops_using_subcommand init" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand init" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand init" -s y -l yes -d 'Accept the defaults for every question not answered by a flag, and push'
complete -c gitops -n "__fish_gitops_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand init" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -f -a "start" -d 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -f -a "finish" -d 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and not __fish_seen_subcommand_from start finish help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -l from -d 'Branch off this environment instead of the first one' -r
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -l offline -d 'Do not fetch: branch off the local environment branch'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -l draft -d 'Open the pull request as a draft'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -l dry-run -d 'Show what would be pushed and the pull request; push nothing (no token needed)'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -l json -d 'Print one JSON document: action, branch, pull_request'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from finish" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from help" -f -a "start" -d 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from help" -f -a "finish" -d 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
complete -c gitops -n "__fish_gitops_using_subcommand feature; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -f -a "set" -d 'Set IMAGE\'s tag to TAG on ENV\'s branch, through a pull request: checks TAG against ENV\'s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -f -a "tags" -d 'List IMAGE\'s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images\' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -f -a "update" -d 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment\'s promotion mode). Each image\'s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
complete -c gitops -n "__fish_gitops_using_subcommand image; and not __fish_seen_subcommand_from set tags update help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -l env -d 'The environment' -r
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -l dry-run -d 'Show the change; push nothing (no token needed)'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -l allow-downgrade -d 'Allow a tag older than the one the environment runs'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -l json -d 'Print one JSON document: action, branch, pull_request, ...'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -l env -d 'Only this environment (repeat for several); all by default' -r
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -l json -d 'Print one JSON document: the tags, and per environment what it accepts and would take'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from tags" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -l env -d 'Only this environment (repeat for several); all by default' -r
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -l image -d 'Only this image: a full name or its last path part, as `image set` takes it (repeat for several); every team image by default' -r
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -l dry-run -d 'Show what would be updated; push nothing (no branch, no pull request)'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -l json -d 'Print one JSON document: a row per environment and image'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set IMAGE\'s tag to TAG on ENV\'s branch, through a pull request: checks TAG against ENV\'s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "tags" -d 'List IMAGE\'s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images\' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "update" -d 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment\'s promotion mode). Each image\'s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
complete -c gitops -n "__fish_gitops_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l from -d 'Promote from this environment instead of ENV\'s upstream' -r
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l set-image -d 'The tag for an image ENV does not run yet (repeatable), e.g. `--set-image search=1.0.0`' -r
complete -c gitops -n "__fish_gitops_using_subcommand promote" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l dry-run -d 'Print the plan, the title and the body; push nothing (no token needed)'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -s y -l yes -d 'Do not ask for confirmation (needed without a terminal for `confirm: true` environments)'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l draft -d 'Open the pull request as a draft'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -l json -d 'Print one JSON document (see the README)'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand promote" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand status" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand status" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand status" -l json -d 'Print one JSON document (see the README for its shape)'
complete -c gitops -n "__fish_gitops_using_subcommand status" -l no-fetch -d 'Do not fetch origin; use what was fetched last'
complete -c gitops -n "__fish_gitops_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand status" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l from -d 'Promote from this environment instead of ENV\'s upstream' -r
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l set-image -d 'The tag for an image ENV does not run yet (repeatable), as `promote` takes it' -r
complete -c gitops -n "__fish_gitops_using_subcommand diff" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l patch -d 'Also print the unified text diff of the changed files'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l json -d 'Print one JSON document (see the README for its shape)'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l exit-code -d 'Exit 1 when there is something to promote'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -l no-fetch -d 'Do not fetch origin; use what was fetched last'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand diff" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand check" -l workspace -d 'A workspace file: `repos: [path-or-url, ...]`, optional `reference:`' -r -F
complete -c gitops -n "__fish_gitops_using_subcommand check" -l config -d 'Check with this configuration instead of the `.gitops.yaml` on origin: try a change to it before its pull request' -r -F
complete -c gitops -n "__fish_gitops_using_subcommand check" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand check" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand check" -l json -d 'Print one JSON document (see the README)'
complete -c gitops -n "__fish_gitops_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand check" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand completions" -s C -d 'Run as if gitops was started in DIR' -r -f -a "(__fish_complete_directories)"
complete -c gitops -n "__fish_gitops_using_subcommand completions" -l color -d 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c gitops -n "__fish_gitops_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gitops -n "__fish_gitops_using_subcommand completions" -s V -l version -d 'Print version'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "quickstart" -d 'Create a sample repository to try gitops on (offline)'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "init" -d 'Set up an existing repository: `.gitops.yaml` and the environment branches'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "feature" -d 'Work on feature branches cut from the first environment'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "image" -d 'Work with the image tags an environment runs'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "promote" -d 'Promote into ENV: build the promotion branch and open its pull request'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "status" -d 'Show what each environment runs, what is waiting and what drifted'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "diff" -d 'Show what promoting ENV would change'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "check" -d 'Check that every configuration repository follows the branch strategy'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c gitops -n "__fish_gitops_using_subcommand help; and not __fish_seen_subcommand_from quickstart init feature image promote status diff check completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gitops -n "__fish_gitops_using_subcommand help; and __fish_seen_subcommand_from feature" -f -a "start" -d 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
complete -c gitops -n "__fish_gitops_using_subcommand help; and __fish_seen_subcommand_from feature" -f -a "finish" -d 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
complete -c gitops -n "__fish_gitops_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "set" -d 'Set IMAGE\'s tag to TAG on ENV\'s branch, through a pull request: checks TAG against ENV\'s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
complete -c gitops -n "__fish_gitops_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "tags" -d 'List IMAGE\'s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images\' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
complete -c gitops -n "__fish_gitops_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "update" -d 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment\'s promotion mode). Each image\'s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
