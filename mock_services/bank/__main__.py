"""``python -m motcua.mock_services.bank --port P --data-dir D …`` (options: `BankConfig`)."""

from motcua.mock_services.bank.app import main

if __name__ == "__main__":
    main()
